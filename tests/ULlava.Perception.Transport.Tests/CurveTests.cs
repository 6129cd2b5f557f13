using NetMQ;
using NetMQ.Sockets;
using ULlava.Perception.Messages;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Transport.Tests;

public sealed class CurveTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    // How long a refused client waits before the test accepts that no reply is coming.
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(1.5);
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-curve-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void KeyFilesRoundTripInZ85WithTheSecretFileOwnerOnly()
    {
        string pub = Path.Combine(dir, "node.key"), sec = Path.Combine(dir, "node.key_secret");
        var made = CurveKeys.Generate(pub, sec);
        Assert.Equal(made.PublicKeyZ85 + "\n", File.ReadAllText(pub));
        Assert.Equal(40, File.ReadAllText(sec).Trim().Length);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(sec));
        var read = CurveKeys.Read(pub, sec);
        Assert.Equal(made.PublicKey, read.PublicKey);
        Assert.Equal(made.SecretKey, read.SecretKey);
        Assert.Throws<IOException>(() => CurveKeys.Generate(pub, sec));

        // A public key that belongs to another pair is caught, and the message never shows the secret.
        string other = Path.Combine(dir, "other.key");
        File.WriteAllText(other, new NetMQCertificate().PublicKeyZ85 + "\n");
        var e = Assert.Throws<InvalidDataException>(() => CurveKeys.Read(other, sec));
        Assert.DoesNotContain(made.SecretKeyZ85!, e.Message);
    }

    [Fact]
    public void AllowListsComeFromAFolderOrAFileAndBadLinesAreNamed()
    {
        string folder = Directory.CreateDirectory(Path.Combine(dir, "clients")).FullName;
        var a = new NetMQCertificate();
        var b = new NetMQCertificate();
        File.WriteAllText(Path.Combine(folder, "a.key"), a.PublicKeyZ85 + "\n");
        File.WriteAllText(Path.Combine(folder, "b.key"), "# robot b\n\n" + b.PublicKeyZ85 + "\n");
        Assert.Equal(new[] { a.PublicKeyZ85, b.PublicKeyZ85 }.Order(), CurveKeys.ReadAllowList(folder).Order());

        string file = Path.Combine(dir, "allowed.txt");
        File.WriteAllText(file, $"{a.PublicKeyZ85}\nnot-a-key\n");
        var e = Assert.Throws<InvalidDataException>(() => CurveKeys.ReadAllowList(file));
        Assert.Contains($"{file}:2", e.Message);
        Assert.Throws<FileNotFoundException>(() => CurveKeys.ReadAllowList(Path.Combine(dir, "missing")));
    }

    [Fact]
    public void OnlyAllowListedClientKeysGetRepliesOthersGetNone()
    {
        var serverCert = new NetMQCertificate();
        var known = new NetMQCertificate();
        var book = new InstructionBook();
        using var server = new CommandServer(book, "tcp://127.0.0.1:0",
            security: new CommandSecurity(serverCert, new HashSet<string> { known.PublicKeyZ85 }));

        using (var allowed = new CommandClient(server.Endpoint, new CurveClientKeys(serverCert.PublicKeyZ85, known)))
            Assert.True(allowed.Send(new Command { GetStatus = new GetStatus() }, Timeout).Ok);

        // A stranger completes the CURVE handshake (NetMQ has no ZAP) but its commands are dropped unanswered.
        using (var stranger = new CommandClient(server.Endpoint, new CurveClientKeys(serverCert.PublicKeyZ85)))
            Assert.Throws<TimeoutException>(() => stranger.Send(new Command { Pause = new Pause() }, Silence));
        // A plain-text client never gets through the handshake.
        using (var plain = new CommandClient(server.Endpoint))
            Assert.Throws<TimeoutException>(() => plain.Send(new Command { Pause = new Pause() }, Silence));

        Assert.Equal(1, book.Calls);
        Assert.Equal(1, server.Refused);
    }

    [Fact]
    public void AProofForgedWithAnotherSecretOrForAnotherPayloadDoesNotVerify()
    {
        var server = new NetMQCertificate();
        var client = new NetMQCertificate();
        byte[] payload = [1, 2, 3];
        byte[] proof = ClientProof.Create(client, server.PublicKey, payload);
        Assert.True(ClientProof.TryVerify(proof, server, payload, out string key));
        Assert.Equal(client.PublicKeyZ85, key);
        Assert.False(ClientProof.TryVerify(proof, server, [1, 2, 4], out _));
        // Claiming a known public key without its secret: the box was made with another secret.
        var impostor = ClientProof.Create(new NetMQCertificate(), server.PublicKey, payload);
        client.PublicKey.CopyTo(impostor, 0);
        Assert.False(ClientProof.TryVerify(impostor, server, payload, out _));
    }

    [Fact]
    public void ACurvePublisherReachesSubscribersWithItsKeyAndNotPlainOnes()
    {
        var serverCert = new NetMQCertificate();
        using var publisher = new ResultPublisher("tcp://127.0.0.1:0", curveServer: serverCert);
        using var secure = new SubscriberSocket();
        new CurveClientKeys(serverCert.PublicKeyZ85).Apply(secure);
        secure.Connect(publisher.Endpoint);
        secure.Subscribe(Topics.Prefix);
        using var plain = new SubscriberSocket();
        plain.Connect(publisher.Endpoint);
        plain.Subscribe(Topics.Prefix);

        var status = new NodeStatus { NodeId = "curve" };
        var deadline = DateTime.UtcNow + Timeout;
        NetMQMessage? received = null;
        while (received is null && DateTime.UtcNow < deadline)
        {
            publisher.Publish(Topics.Status, status);
            var message = new NetMQMessage();
            if (secure.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message)) received = message;
        }
        Assert.NotNull(received);
        Assert.Equal(status, NodeStatus.Parser.ParseFrom(received![1].ToByteArray()));

        // Keep publishing while the plain subscriber listens: it never completes the handshake.
        var silenceEnd = DateTime.UtcNow + Silence;
        while (DateTime.UtcNow < silenceEnd)
        {
            publisher.Publish(Topics.Status, status);
            var message = new NetMQMessage();
            Assert.False(plain.TryReceiveMultipartMessage(TimeSpan.FromMilliseconds(100), ref message));
        }
    }
}
