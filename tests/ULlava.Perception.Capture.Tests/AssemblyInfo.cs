// The tests run real RTSP servers, encoders and ffmpeg children and check functional time bounds: one at a time,
// so they do not compete for the (2-core) CI machine with each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
