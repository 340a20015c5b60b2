using System.Text;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using Serilog;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// The <c>session</c> verb (docs/protocol.md, "Sessions"): reads request lines from stdin, each
/// checked by the same grammar plus <see cref="SessionRules"/>, and hands each to the same serving
/// code as a single-verb request, with its BSF1 payload (bounded by <see cref="Bsf1Extent"/>) as its
/// stdin. Every rule a request meets on its own connection (allowed sets, ALLOW_GET, locks,
/// MAX_UPLOADS_PER_DAY, the lease's opener) is checked again per request, so a session lets a key do
/// nothing it could not do with separate connections. The first refusal ends the session after its
/// ERR line; EOF at the start of a line ends it with exit 0.
/// </summary>
internal sealed class SessionLoop(Stream input, ILogger log, string clientLabel)
{
    /// <summary>Serves one request that passed the grammar, with its payload as stdin; returns the exit code.</summary>
    internal delegate Task<int> Serve(Request request, string shown, Stream payload, CancellationToken cancellationToken);

    public async Task<int> RunAsync(Serve serve, Func<ServeRefusal, string, Task<int>> refuse, Func<string, Task> writeLine, CancellationToken cancellationToken)
    {
        var uploads = 0;
        for (var number = 1; ; number++)
        {
            string? line;
            try
            {
                line = await ReadLineAsync(number, cancellationToken);
            }
            catch (ServeRefusal refusal)
            {
                return await refuse(refusal, $"session request {number}");
            }
            catch (IdleTimeoutException ex)
            {
                return await refuse(new ServeRefusal(ErrorCodes.IdleTimeout, $"waiting for session request {number}: {ex.Message}"), $"session request {number}");
            }

            if (line is null)
            {
                log.Information("client {Client}: session ended after {Count} requests", clientLabel, number - 1);
                return 0;
            }

            var shown = NameText.Printable(line);
            var parsed = SessionRules.Check(CommandGrammar.Parse(line), number, uploads);
            if (!parsed.IsValid)
            {
                return await refuse(new ServeRefusal(parsed.ErrorCode, parsed.Error), shown);
            }

            var request = parsed.Request;
            log.Information("client {Client} session request {Number}: {Command}", clientLabel, number, shown);
            uploads += SessionRules.IsUpload(request) ? 1 : 0;
            var extent = SessionRules.HasPayload(request) ? new Bsf1Extent(input) : null;
            await using var payload = request is OpenLuksRequest
                ? new Bsf1Reader(extent!, OpenLuksRequest.MaxKeyBytes, leaveOpen: true)
                : (Stream?)extent ?? Stream.Null;
            var code = await serve(request, shown, payload, cancellationToken);
            if (code != 0)
            {
                return code;
            }

            if (extent is { IsAtEnd: false })
            {
                // Defensive: every payload-reading verb reads to the verified trailer; the next line must start right after it.
                return await refuse(new ServeRefusal(ErrorCodes.BadFrame, $"'{request.Verb}' did not read its BSF1 stream to the trailer; the session cannot go on"), shown);
            }

            await writeLine(SessionRules.RenderDone(request));
        }
    }

    /// <summary>One request line without its LF, or null at EOF before its first byte. Reads byte by byte: nothing after the LF is consumed.</summary>
    private async Task<string?> ReadLineAsync(int number, CancellationToken cancellationToken)
    {
        var line = new byte[SessionRules.MaxLineBytes + 1];
        var count = 0;
        while (true)
        {
            var n = await input.ReadAsync(line.AsMemory(count, 1), cancellationToken);
            if (n == 0)
            {
                return count == 0 ? null
                    : throw new ServeRefusal(ErrorCodes.BadCommand, $"session request {number} ended after {count} bytes without its LF; allowed: one command of at most {SessionRules.MaxLineBytes} bytes, then LF");
            }

            if (line[count] == (byte)'\n')
            {
                // Latin-1 maps every byte to one char, so the grammar names any byte outside printable ASCII.
                return Encoding.Latin1.GetString(line, 0, count);
            }

            if (++count > SessionRules.MaxLineBytes)
            {
                throw new ServeRefusal(ErrorCodes.BadCommand, $"session request {number} is longer than {SessionRules.MaxLineBytes} bytes before its LF; allowed: at most {SessionRules.MaxLineBytes} bytes of printable ASCII, then LF");
            }
        }
    }
}
