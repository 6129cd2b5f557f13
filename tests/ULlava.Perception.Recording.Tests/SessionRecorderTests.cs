using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;
using ULlava.Perception.Recording.Mcap;
using ULlava.Perception.Recording.Replay;
using ULlava.Perception.Recording.Session;

namespace ULlava.Perception.Recording.Tests;

public sealed class SessionRecorderTests
{
    [Fact]
    public void A_session_replays_frames_commands_and_publications_in_log_time_order()
    {
        using var dir = new TempDir();
        SessionExpectation expected;
        string file;
        using (var recorder = new SessionRecorder(SessionSample.Options(dir.File("session.mcap"))))
        {
            expected = SessionSample.Record(recorder, 40);
            recorder.Stop();
            Assert.Equal(RecorderState.Stopped, recorder.State);
            Assert.Null(recorder.Error);
            Assert.Equal(expected.McapMessages, recorder.MessagesWritten);
            file = Assert.Single(recorder.Files);
            Assert.Equal(new FileInfo(file).Length, recorder.BytesWritten);
            Assert.False(recorder.GetStatus().Active);
        }
        Assert.Equal("session_000.mcap", Path.GetFileName(file));

        var replay = RecordingReader.Open(dir.File("session.mcap"));
        var events = replay.ReadEvents().ToList();

        Assert.Empty(replay.Problems);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.LogTimeUnixNs <= p.Second.LogTimeUnixNs));
        var frames = events.OfType<RecordedFrame>().ToList();
        Assert.Equal(expected.Frames, frames.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            Assert.Equal(SessionSample.Header(i), frames[i].Header);
            Assert.Equal("jpeg", frames[i].Format);
            Assert.Equal(SessionSample.Jpeg(i), frames[i].Data);
            Assert.Equal(SessionSample.Header(i).CaptureTimeUnixNs, frames[i].LogTimeUnixNs);
        }
        var commands = events.OfType<RecordedCommand>().ToList();
        Assert.Equal(expected.Commands, commands.Count);
        Assert.Equal(SessionSample.AddInstruction(10), commands[1].Command);
        Assert.Equal(SessionSample.Header(10).CaptureTimeUnixNs + 1, commands[1].LogTimeUnixNs);

        var published = events.OfType<RecordedPublication>().ToList();
        Assert.Equal(expected.Published, published.Count);
        var results = published.Where(p => p.Topic == Topics.Results("cam0")).ToList();
        Assert.Equal(expected.Results, results.Count);
        Assert.All(results, r => Assert.Equal("ullava.perception.v1.InstructionResult", r.MessageType));
        Assert.Equal(SessionSample.Result(3), InstructionResult.Parser.ParseFrom(results[3].Payload));
        Assert.Equal(expected.Statuses, published.Count(p => p.Topic == Topics.Status && p.MessageType == "ullava.perception.v1.NodeStatus"));
        Assert.Equal(SessionSample.Calibration(),
            CameraCalibration.Parser.ParseFrom(Assert.Single(published, p => p.Topic == Topics.Calibration("cam0")).Payload));

        var metadata = replay.ReadMetadata().Select(m => m.Metadata).ToDictionary(m => m.Name);
        Assert.Equal("10", metadata[SessionRecorder.NodeConfigMetadataName].Values["sample_fps"]);
        Assert.Equal("abc123", metadata[ModelIdentity.MetadataName].Values["checkpoint_sha256"]);
        Assert.Equal("bf16", metadata[ModelIdentity.MetadataName].Values["dtype"]);
    }

    [Fact]
    public void Foxglove_channels_carry_images_annotations_and_camera_info()
    {
        using var dir = new TempDir();
        using (var recorder = new SessionRecorder(SessionSample.Options(dir.File("fox.mcap"))))
        {
            SessionSample.Record(recorder, 3);
        }
        using var reader = McapReader.Open(dir.File("fox_000.mcap"));
        var byTopic = reader.Channels.Values.ToDictionary(c => c.Topic);
        string SchemaOf(string topic) => reader.Schemas[byTopic[topic].SchemaId].Name;

        Assert.Equal("foxglove.CompressedImage", SchemaOf(RecordingTopics.Image("cam0")));
        Assert.Equal("foxglove.ImageAnnotations", SchemaOf(RecordingTopics.Annotations("cam0")));
        Assert.Equal("foxglove.CameraCalibration", SchemaOf(RecordingTopics.CameraInfo("cam0")));
        Assert.All(reader.Schemas.Values, s => Assert.Equal("protobuf", s.Encoding));
        Assert.All(reader.Channels.Values, c => Assert.Equal("protobuf", c.MessageEncoding));

        var annotationsChannel = byTopic[RecordingTopics.Annotations("cam0")].Id;
        var annotations = Foxglove.ImageAnnotations.Parser.ParseFrom(
            reader.ReadMessages(channelIds: new HashSet<ushort> { annotationsChannel }).First().Data.Span);
        // Same timestamp as the image, so Foxglove draws it over that frame.
        Assert.Equal(SessionSample.T0, annotations.Timestamp.Seconds * 1_000_000_000L + annotations.Timestamp.Nanos);
        var box = Assert.Single(annotations.Points, p => p.Type == Foxglove.PointsAnnotation.Types.Type.LineLoop);
        Assert.Equal([(5.0, 6.0), (25.0, 6.0), (25.0, 26.0), (5.0, 26.0)], box.Points.Select(p => (p.X, p.Y)));
        var outline = Assert.Single(annotations.Points, p => p.Type == Foxglove.PointsAnnotation.Types.Type.Points);
        // A 20x20 square's outline: 76 boundary pixels, all on its edges.
        Assert.Equal(76, outline.Points.Count);
        Assert.All(outline.Points, p => Assert.True(p.X is 20.5 or 39.5 || p.Y is 10.5 or 29.5));
        Assert.Equal(["cup", "cup"], annotations.Texts.Select(t => t.Text));

        var imageChannel = byTopic[RecordingTopics.Image("cam0")].Id;
        var image = Foxglove.CompressedImage.Parser.ParseFrom(reader.ReadMessages(channelIds: new HashSet<ushort> { imageChannel }).First().Data.Span);
        Assert.Equal("cam0_optical", image.FrameId);
        Assert.Equal(SessionSample.Jpeg(0), image.Data.ToByteArray());
    }

    [Fact]
    public void Rotation_by_size_gives_indexed_files_each_complete_and_self_describing()
    {
        using var dir = new TempDir();
        SessionExpectation expected;
        IReadOnlyList<string> files;
        using (var recorder = new SessionRecorder(SessionSample.Options(dir.File("rot.mcap")) with { MaxFileBytes = 40 * 1024 }))
        {
            expected = SessionSample.Record(recorder, 60);
            recorder.Stop();
            files = recorder.Files;
            Assert.Equal(files.Sum(f => new FileInfo(f).Length), recorder.BytesWritten);
        }
        Assert.True(files.Count >= 3, $"{files.Count} files");
        Assert.Equal(files.Select((_, i) => $"rot_{i:D3}.mcap"), files.Select(Path.GetFileName));
        foreach (var file in files)
        {
            using var reader = McapReader.Open(file);
            Assert.True(reader.HasSummary);
            Assert.Empty(reader.Problems);
            Assert.Contains(reader.ReadMetadata(), m => m.Name == ModelIdentity.MetadataName);
            // The latest calibration opens every file, so each plays alone.
            Assert.Contains(reader.Channels.Values, c => c.Topic == Topics.Calibration("cam0"));
            // Rotated before the size was much exceeded (one chunk at most).
            Assert.True(new FileInfo(file).Length < 40 * 1024 + 16 * 1024 + 8 * 1024, $"{file}: {new FileInfo(file).Length} bytes");
        }

        var replay = RecordingReader.Open(dir.File("rot.mcap"));
        var events = replay.ReadEvents().ToList();
        Assert.Equal(expected.Frames, events.OfType<RecordedFrame>().Count());
        Assert.Equal(Enumerable.Range(0, expected.Frames).Select(i => (ulong)i), events.OfType<RecordedFrame>().Select(f => f.Header.Sequence));
        Assert.Equal(expected.Commands, events.OfType<RecordedCommand>().Count());
        // Calibration repeats once per extra file.
        Assert.Equal(expected.Published + files.Count - 1, events.OfType<RecordedPublication>().Count());
    }

    [Fact]
    public void Rotation_by_duration_splits_on_log_time()
    {
        using var dir = new TempDir();
        IReadOnlyList<string> files;
        using (var recorder = new SessionRecorder(SessionSample.Options(dir.File("dur.mcap")) with { MaxFileDuration = TimeSpan.FromSeconds(1) }))
        {
            SessionSample.Record(recorder, 25); // 2.5 s of frames at 10 fps
            recorder.Stop();
            files = recorder.Files;
        }
        Assert.Equal(3, files.Count);
        var framesPerFile = files.Select(f => new RecordingReader([f]).ReadEvents().OfType<RecordedFrame>().Count()).ToList();
        Assert.Equal([10, 10, 5], framesPerFile);
    }

    [Fact]
    public void Concurrent_producers_lose_nothing()
    {
        using var dir = new TempDir();
        const int threads = 4, perThread = 250;
        using (var recorder = new SessionRecorder(SessionSample.Options(dir.File("mt.mcap"))))
        {
            Parallel.For(0, threads, t =>
            {
                for (var i = 0; i < perThread; i++)
                {
                    Assert.True(recorder.RecordPublished($"ullava/v1/t{t}/text", new TextUpdate { Piece = $"{t}:{i}", PieceIndex = (uint)i },
                        SessionSample.T0 + i));
                }
            });
            recorder.Stop();
            Assert.Equal(0, recorder.DroppedItems);
        }
        var published = new RecordingReader([dir.File("mt_000.mcap")]).ReadEvents().OfType<RecordedPublication>().ToList();
        Assert.Equal(threads * perThread, published.Count);
        for (var t = 0; t < threads; t++)
        {
            // Each producer's own order is kept (equal times too: file order).
            var mine = published.Where(p => p.Topic == $"ullava/v1/t{t}/text").Select(p => TextUpdate.Parser.ParseFrom(p.Payload).PieceIndex);
            Assert.Equal(Enumerable.Range(0, perThread).Select(i => (uint)i), mine);
        }
    }

    [Fact]
    public void Past_the_queue_limit_items_are_dropped_and_counted_not_blocked()
    {
        using var dir = new TempDir();
        using var recorder = new SessionRecorder(SessionSample.Options(dir.File("q.mcap")) with { MaxQueuedBytes = 1000 });

        Assert.False(recorder.RecordFrame(SessionSample.Header(0), "jpeg", new byte[5000]));
        Assert.Equal(1, recorder.DroppedItems);
        Assert.True(recorder.RecordFrame(SessionSample.Header(1), "jpeg", new byte[500]));
        recorder.Stop();
        Assert.False(recorder.RecordFrame(SessionSample.Header(2), "jpeg", new byte[10]));
        Assert.Single(new RecordingReader(recorder.Files).ReadEvents().OfType<RecordedFrame>());
    }

    [Fact]
    public void A_path_that_cannot_be_created_fails_the_recording_without_throwing()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("not-a-dir"), "x");
        using var recorder = new SessionRecorder(SessionSample.Options(Path.Combine(dir.File("not-a-dir"), "s.mcap")));
        recorder.Stop();

        Assert.Equal(RecorderState.Failed, recorder.State);
        Assert.Contains("recording stopped", recorder.Error);
        Assert.False(recorder.RecordFrame(SessionSample.Header(0), "jpeg", [1, 2, 3]));
        Assert.Equal(recorder.Error, recorder.GetStatus().Error);
    }

    [Fact]
    public void Replay_finds_a_sessions_files_in_index_order_and_no_others()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "s_1000.mcap", "s_002.mcap", "s_000.mcap", "s_extra_000.mcap", "s_.mcap", "other_000.mcap" })
        {
            using var stream = File.Create(dir.File(name));
            new McapWriter(stream).Finish();
        }

        var replay = RecordingReader.Open(dir.File("s.mcap"));

        Assert.Equal(["s_000.mcap", "s_002.mcap", "s_1000.mcap"], replay.Files.Select(Path.GetFileName));
        Assert.Empty(replay.ReadEvents());
        Assert.Throws<FileNotFoundException>(() => RecordingReader.Open(dir.File("none.mcap")));
    }
}
