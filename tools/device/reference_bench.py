#!/usr/bin/env python3
"""The Python reference's stage times for u-LLaVA-7B's shapes, for `ullava bench --random-weights ullava-7b` to be
compared with on the same GPU in the same sitting (issue #10).

What u-LLaVA runs, built from configs with random weights (no download; timing does not depend on the values), in
bf16, eager attention, the Hugging Face way: CLIP ViT-L/14 at 224 px (hidden_states[-2]), SAM ViT-H image encoder at
1024 px and its mask decoder (transformers' SamModel, a port of segment_anything), a Vicuna-7B-shaped LLaMA prefilled
with a 320-token prompt of embeddings and decoding with generate(). The vocabulary is 523, like the C# side (see
ModelSizes.ULlava7B). Prints a table and writes JSON.

    python3 tools/device/reference_bench.py --json ref.json [--repeats 10] [--attn eager|sdpa]
"""
import argparse
import json
import statistics
import sys
import time
import traceback

import torch


def timed(fn, repeats):
    """Median wall ms of fn() with the GPU drained before and after each call (two warm-up calls first)."""
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def build(cls, config, attn):
    try:
        return cls._from_config(config, attn_implementation=attn)
    except Exception:  # older or newer transformers without _from_config(attn_implementation=)
        config._attn_implementation = attn
        return cls(config)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--prompt-tokens", type=int, default=320)
    ap.add_argument("--attn", default="eager")
    args = ap.parse_args()

    import transformers
    from transformers import CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlamaForCausalLM, SamConfig, SamModel

    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    dev = torch.device("cuda")
    report = {
        "machine": {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "transformers": transformers.__version__,
                    "dtype": "bfloat16", "attention": args.attn},
        "stages_ms": {},
        "errors": {},
    }
    stages = report["stages_ms"]

    def stage(name, fn):
        try:
            stages[name] = timed(fn, args.repeats)
            print(f"{name:<34}{stages[name]:10.2f}", flush=True)
        except Exception as e:  # one broken stage must not cost the others their numbers
            report["errors"][name] = f"{type(e).__name__}: {e}"
            traceback.print_exc()

    with torch.device(dev), torch.inference_mode():
        t0 = time.perf_counter()
        clip = build(CLIPVisionModel, CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                                       num_attention_heads=16, image_size=224, patch_size=14,
                                                       projection_dim=768), args.attn).eval()
        sam = SamModel(SamConfig(vision_config=dict(hidden_size=1280, num_hidden_layers=32, num_attention_heads=16,
                                                     global_attn_indexes=[7, 15, 23, 31], output_channels=256,
                                                     image_size=1024, patch_size=16))).eval()
        llm = build(LlamaForCausalLM, LlamaConfig(vocab_size=523, hidden_size=4096, intermediate_size=11008,
                                                  num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                                                  max_position_embeddings=2048, rms_norm_eps=1e-6, bos_token_id=1,
                                                  eos_token_id=2, pad_token_id=0), args.attn).eval()
        torch.cuda.synchronize()
        report["build_s"] = time.perf_counter() - t0
        report["parameters"] = sum(p.numel() for m in (clip, sam, llm) for p in m.parameters())
        print(f"built {report['parameters']:,} parameters in {report['build_s']:.1f} s on {report['machine']['gpu']}", flush=True)

        pixels = torch.randn(1, 3, 224, 224)
        sam_pixels = torch.randn(1, 3, 1024, 1024)
        prompt = torch.randn(1, args.prompt_tokens, 4096) * 0.02
        mask = torch.ones(1, args.prompt_tokens, dtype=torch.long)
        point = torch.tensor([[[[320.0, 240.0]]]])

        def generate(n):
            return llm.generate(inputs_embeds=prompt, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                do_sample=False, pad_token_id=0, eos_token_id=2)

        stage("clip_ms", lambda: clip(pixel_values=pixels, output_hidden_states=True).hidden_states[-2])
        stage("sam_encoder_ms", lambda: sam.get_image_embeddings(sam_pixels))
        embeddings = sam.get_image_embeddings(sam_pixels)
        stage("mask_decode_ms", lambda: sam(image_embeddings=embeddings, input_points=point, multimask_output=False).pred_masks)
        stage(f"prefill_{args.prompt_tokens}_tokens_ms", lambda: llm(inputs_embeds=prompt, use_cache=True).logits)
        stage("generate_1_token_ms", lambda: generate(1))
        stage("generate_33_tokens_ms", lambda: generate(33))
        if "generate_1_token_ms" in stages and "generate_33_tokens_ms" in stages:
            stages["decode_ms_per_token"] = (stages["generate_33_tokens_ms"] - stages["generate_1_token_ms"]) / 32
            print(f"{'decode_ms_per_token':<34}{stages['decode_ms_per_token']:10.2f}", flush=True)

        def segmentation_frame():
            clip(pixel_values=pixels, output_hidden_states=True).hidden_states[-2]
            emb = sam.get_image_embeddings(sam_pixels)
            generate(16)
            sam(image_embeddings=emb, input_points=point, multimask_output=False).pred_masks

        stage("frame_with_16_token_answer_ms", segmentation_frame)
        if "frame_with_16_token_answer_ms" in stages:
            report["standing_seg_fps"] = 1000 / stages["frame_with_16_token_answer_ms"]
        report["peak_gpu_memory_mib"] = torch.cuda.max_memory_allocated() / 2**20
        print(f"peak GPU memory {report['peak_gpu_memory_mib']:.0f} MiB", flush=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
