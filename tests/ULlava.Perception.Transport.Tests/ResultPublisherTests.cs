using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport.Tests;

public class ResultPublisherTests
{
    [Fact]
    public void SubscriberReceivesTopicAndProtobufFilteredByPrefix()
    {
        using var publisher = new ResultPublisher("tcp://127.0.0.1:0");
        Assert.Matches(@"^tcp://127\.0\.0\.1:\d+$", publisher.Endpoint);
        using var subscriber = new SubscriberSocket();
        subscriber.Connect(publisher.Endpoint);
        subscriber.Subscribe(Topics.Prefix + "cam0/");

        // PUB/SUB joins late: publish until the subscription has reached the publisher.
        var expected = new InstructionResult { Header = new FrameHeader { StreamId = "cam0", Sequence = 7 }, InstructionId = "i1", Text = "a red circle" };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<string>? frames = null;
        while (frames is null && DateTime.UtcNow < deadline)
        {
            publisher.Publish(Topics.Results("cam1"), expected); // filtered out: other stream
            publisher.Publish(Topics.Results("cam0"), expected);
            var message = new NetMQMessage();
            if (subscriber.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message))
            {
                frames = new List<string> { message[0].ConvertToString() };
                Assert.Equal(2, message.FrameCount);
                Assert.Equal(expected, InstructionResult.Parser.ParseFrom(message[1].ToByteArray()));
            }
        }
        Assert.NotNull(frames);
        Assert.Equal("ullava/v1/cam0/results", frames![0]);
    }

    [Fact]
    public async Task ASubscriberThatNeverReadsDoesNotBlockPublishing()
    {
        using var publisher = new ResultPublisher("tcp://127.0.0.1:0", sendHighWatermark: 10, queueCapacity: 100);
        using var stuck = new SubscriberSocket();
        stuck.Options.ReceiveHighWatermark = 10;
        stuck.Connect(publisher.Endpoint);
        stuck.SubscribeToAnyTopic();
        Thread.Sleep(200);

        var big = new InstructionResult { Text = new string('x', 100_000) };
        var publishing = Task.Run(() =>
        {
            for (int i = 0; i < 5000; i++) publisher.Publish(Topics.Results("cam0"), big);
        });
        await publishing.WaitAsync(TimeSpan.FromSeconds(30)); // throws TimeoutException if Publish blocked
        // Everything is accounted for: sent to the socket or counted as dropped.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (publisher.Published + publisher.Dropped < 5000 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(5000, publisher.Published + publisher.Dropped);
    }

    [Fact]
    public void PublishingAfterTheDisposeIsCountedAsDroppedNotThrown()
    {
        // A frame left in the model when the node stops may still publish once the publisher is gone.
        var publisher = new ResultPublisher("tcp://127.0.0.1:0");
        publisher.Dispose();
        publisher.Publish(Topics.Status, new NodeStatus { NodeId = "late" });
        Assert.Equal(1, publisher.Dropped);
    }

    [Fact]
    public void BindingAnEndpointInUseFailsWithTheEndpointNamed()
    {
        using var first = new ResultPublisher("tcp://127.0.0.1:0");
        var e = Assert.Throws<IOException>(() => new ResultPublisher(first.Endpoint));
        Assert.Contains(first.Endpoint, e.Message);
    }
}
