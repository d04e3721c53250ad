using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeNode.Gateway.Api;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Speculative;

namespace EdgeNode.Verifier;

/// <summary>The verifier refused a request for a reason retrying will not fix (bad input, wrong key, a tokenizer mismatch).</summary>
public sealed class VerifierRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// A session on a remote verifier over HTTP/1.1 keep-alive (one connection reused for every round). A lost session
/// (404 unknown or 410 expired: the verifier restarted or forgot it) and a verifier that cannot be reached or is
/// restarting (connection refused, 502/503) surface as <see cref="VerifierSessionLostException"/>, which the
/// generator answers by reopening with its history; a 429 is waited out (Retry-After) and sent again.
/// </summary>
public sealed class RemoteVerifierSession : IVerifierSession
{
    private const int MaxRateLimitWaits = 20;

    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly string _model;
    private readonly string _tokenizer;
    private readonly SamplingOptions _sampling;
    private readonly double? _benchmarkAcceptance;
    private string? _session;

    /// <param name="benchmarkAcceptance">Benchmark only: the verifier keeps each draft with this probability (the output is then not the target's).</param>
    public RemoteVerifierSession(string baseUrl, string model, string tokenizerFingerprint, SamplingOptions sampling, string? apiKey, TimeSpan? timeout = null, double? benchmarkAcceptance = null)
    {
        _benchmarkAcceptance = benchmarkAcceptance;
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"--verifier '{baseUrl}' is not an http(s) URL such as http://host:8080");
        _base = uri;
        _model = model;
        _tokenizer = tokenizerFingerprint;
        _sampling = sampling;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // One keep-alive connection per verifier; a restarted verifier's dead connection is replaced on the next send.
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseProxy = false,
        })
        {
            Timeout = timeout ?? TimeSpan.FromMinutes(2),
        };
        if (apiKey is not null)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public string? SessionId => _session;

    /// <summary>Positions the last opened session may hold.</summary>
    public int Context { get; private set; }

    /// <summary>The history the verifier answered with on the last open (the prompt's ids when text was sent).</summary>
    public int[] OpenedTokens { get; private set; } = [];

    public int Open(ReadOnlySpan<int> history) => OpenCore(history.ToArray(), null);

    /// <summary>Opens with prompt text the verifier encodes (the drafting side then learns the ids from the answer).</summary>
    public int OpenWithPrompt(string prompt) => OpenCore(null, prompt);

    private int OpenCore(int[]? tokens, string? prompt)
    {
        var request = new OpenSessionRequest
        {
            Model = _model,
            Tokens = tokens,
            Prompt = prompt,
            Tokenizer = _tokenizer,
            Temperature = _sampling.Temperature,
            TopK = _sampling.TopK,
            TopP = _sampling.TopP,
            RepetitionPenalty = _sampling.RepetitionPenalty,
            Seed = _sampling.Seed,
            BenchmarkAcceptance = _benchmarkAcceptance,
        };
        var answer = Send(HttpMethod.Post, "v1/verifier/sessions", request, VerifierJsonContext.Default.OpenSessionRequest, VerifierJsonContext.Default.OpenSessionResponse);
        _session = answer.Session;
        Context = answer.Context;
        OpenedTokens = answer.Tokens;
        return answer.Context;
    }

    public VerifyRound Verify(DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (_session is null)
            throw new VerifierSessionLostException("no session is open");
        var request = new VerifyRequest { Draft = draft.Proposed.ToArray() };
        if (draft.HasDistributions && draft.Count > 0)
        {
            var distributions = new DraftDistribution[draft.Count];
            for (var i = 0; i < draft.Count; i++)
                distributions[i] = new DraftDistribution { Ids = draft.CandidateIds(i).ToArray(), Probabilities = draft.CandidateProbabilities(i).ToArray() };
            request.DraftDistributions = distributions;
        }
        var answer = Send(HttpMethod.Post, $"v1/verifier/sessions/{_session}/verify", request, VerifierJsonContext.Default.VerifyRequest, VerifierJsonContext.Default.VerifyResponse);
        var examined = answer.Accepted + (answer.Accepted < draft.Count ? 1 : 0);
        return new VerifyRound(new VerifyDecision(answer.Accepted, answer.Token, examined), answer.VerifyMs / 1000.0);
    }

    /// <summary>The verifier's counters (GET /v1/verifier/stats).</summary>
    public VerifierStats Stats()
    {
        using var response = SendRaw(() => new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "v1/verifier/stats")));
        return Read(response, VerifierJsonContext.Default.VerifierStats);
    }

    private TResponse Send<TRequest, TResponse>(HttpMethod method, string path, TRequest body, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body, requestType);
        using var response = SendRaw(() =>
        {
            var message = new HttpRequestMessage(method, new Uri(_base, path)) { Content = new ByteArrayContent(bytes) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return message;
        });
        return Read(response, responseType);
    }

    private HttpResponseMessage SendRaw(Func<HttpRequestMessage> make)
    {
        for (var wait = 0; ; wait++)
        {
            HttpResponseMessage response;
            try
            {
                using var request = make();
                response = _http.Send(request);
            }
            catch (HttpRequestException e)
            {
                throw new VerifierSessionLostException($"the verifier at {_base} cannot be reached: {e.Message}", e);
            }
            catch (TaskCanceledException e)
            {
                throw new VerifierSessionLostException($"the verifier at {_base} did not answer within {_http.Timeout.TotalSeconds:0} s", e);
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests && wait < MaxRateLimitWaits)
            {
                var delay = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                response.Dispose();
                Thread.Sleep(delay);
                continue;
            }
            return response;
        }
    }

    private static T Read<T>(HttpResponseMessage response, JsonTypeInfo<T> type)
    {
        using var stream = response.Content.ReadAsStream();
        if (response.IsSuccessStatusCode)
            return JsonSerializer.Deserialize(stream, type) ?? throw new VerifierRequestException((int)response.StatusCode, "the verifier answered null");
        string message;
        string? code = null;
        try
        {
            var error = JsonSerializer.Deserialize(stream, VerifierJsonContext.Default.ErrorBody)?.Error;
            message = error?.Message ?? response.ReasonPhrase ?? "";
            code = error?.Code;
        }
        catch (JsonException)
        {
            message = response.ReasonPhrase ?? "";
        }
        var status = (int)response.StatusCode;
        // Gone sessions and a verifier that is restarting are worth a reopen; a model it does not serve is not.
        var lost = code is "session_not_found" or "session_expired" or "shutting_down" or "kv_budget_full"
                   || (status is 502 or 504 || (status == 503 && code is null));
        if (lost)
            throw new VerifierSessionLostException($"verifier: {status} {message}");
        throw new VerifierRequestException(status, $"verifier: {status} {message}");
    }

    public void Dispose()
    {
        if (_session is { } id)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(_base, $"v1/verifier/sessions/{id}"));
                using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                _http.Send(request, cancel.Token).Dispose();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException)
            {
                // The session expires by itself on the verifier.
            }
        }
        _http.Dispose();
    }
}
