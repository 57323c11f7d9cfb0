using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace BanActors.Server.Api;

/// <summary>
/// <c>/openapi/v1.json</c> from <see cref="ApiCatalog"/>: every mapped endpoint with its form parameters and their
/// limits, the signing headers, the answers and every error code. The endpoints take a raw form (RongCloud's shape),
/// so the document is written from the catalog rather than inferred from handler signatures.
/// </summary>
internal sealed class OpenApiDescription : IOpenApiDocumentTransformer
{
    public const string DocumentPath = "/openapi/v1.json";

    private static readonly (string Name, string Description)[] SigningHeaders =
    [
        ("App-Key", "The app's key"),
        ("Nonce", "A random string, at most 64 characters"),
        ("Timestamp", "Unix time in seconds (or milliseconds)"),
        ("Signature", "Hex SHA1 of App-Secret + Nonce + Timestamp (RongCloud's signature; RC- prefixed headers work too)"),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "BanActors",
            Version = "v1",
            Description = "A ban engine with timed auto-unban, compatible with RongCloud's server API (its SDKs work unchanged). " +
                "Every answer is JSON with a code; signed endpoints take the four signing headers. Codes: " +
                string.Join("; ", ApiCatalog.Codes.Select(c => $"{c.Code} (HTTP {ErrorCodes.HttpStatus(c.Code)}): {c.Meaning}")),
            License = new OpenApiLicense { Name = "Apache-2.0", Identifier = "Apache-2.0" },
        };
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas["Error"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "Every refusal: the code says why, the message says it in words.",
            Required = new HashSet<string> { "code", "errorMessage" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["code"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Enum = [.. ApiCatalog.Codes.Where(c => c.Code != ErrorCodes.Ok).Select(c => (JsonNode)JsonValue.Create(c.Code))],
                    Description = string.Join("; ", ApiCatalog.Codes.Where(c => c.Code != ErrorCodes.Ok).Select(c => $"{c.Code}: {c.Meaning}")),
                },
                ["errorMessage"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["url"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The path that was asked" },
            },
        };

        var mapped = Mapped(context.ApplicationServices);
        document.Tags = ApiCatalog.Operations.Select(Tag).Distinct().Select(t => new OpenApiTag { Name = t }).ToHashSet();
        document.Paths = new OpenApiPaths();
        foreach (var operation in ApiCatalog.Operations.Where(o => mapped.Contains((o.Method, o.Path))))
        {
            if (!document.Paths.TryGetValue(operation.Path, out var item))
                document.Paths[operation.Path] = item = new OpenApiPathItem();
            ((OpenApiPathItem)item).AddOperation(HttpMethod.Parse(operation.Method), Describe(operation, document));
        }
        return Task.CompletedTask;
    }

    /// <summary>The (method, path) of every endpoint in the routing table.</summary>
    internal static HashSet<(string Method, string Path)> Mapped(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/').Replace("{documentName}", "v1", StringComparison.Ordinal))))
            .ToHashSet();

    private static OpenApiOperation Describe(ApiOperation operation, OpenApiDocument document)
    {
        var parameters = new List<IOpenApiParameter>();
        if (operation.Signed)
            parameters.AddRange(SigningHeaders.Select(h => new OpenApiParameter
            {
                Name = h.Name, In = ParameterLocation.Header, Required = true, Description = h.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            }));
        parameters.AddRange((operation.Headers ?? []).Select(h => new OpenApiParameter
        {
            Name = h.Name, In = ParameterLocation.Header, Required = h.Required, Description = h.Description, Schema = Schema(h),
        }));
        var result = new OpenApiOperation
        {
            Summary = operation.Summary,
            Description = operation.Description,
            OperationId = operation.Path.Trim('/').Replace(".json", "", StringComparison.Ordinal).Replace('/', '_'),
            Tags = new HashSet<OpenApiTagReference> { new(Tag(operation), document) },
            Parameters = parameters,
            Responses = Responses(operation, document),
        };
        if (operation.Method == "GET")
            parameters.AddRange(operation.Form.Select(p => new OpenApiParameter
            {
                Name = p.Name, In = ParameterLocation.Query, Required = p.Required, Description = p.Description, Schema = Schema(p),
            }));
        else
            result.RequestBody = new OpenApiRequestBody
            {
                Required = operation.Form.Any(p => p.Required),
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/x-www-form-urlencoded"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Properties = operation.Form.ToDictionary(p => p.Name, p => (IOpenApiSchema)Schema(p)),
                            Required = operation.Form.Where(p => p.Required).Select(p => p.Name).ToHashSet(),
                        },
                    },
                },
            };
        return result;
    }

    private static string Tag(ApiOperation operation) => operation.Path.Split('/')[1] is { Length: > 0 } segment && segment != "healthz"
        ? segment.Replace(".json", "", StringComparison.Ordinal) : "server";

    private static OpenApiResponses Responses(ApiOperation operation, OpenApiDocument document)
    {
        var responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse
            {
                Description = "Success",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [operation.SuccessContentType] = new() { Example = operation.SuccessExample.StartsWith('{')
                        ? JsonNode.Parse(operation.SuccessExample) : JsonValue.Create(operation.SuccessExample) },
                },
            },
        };
        foreach (var status in operation.Codes.Concat([ErrorCodes.NotFound, ErrorCodes.MethodNotAllowed])
                     .GroupBy(ErrorCodes.HttpStatus).OrderBy(g => g.Key))
        {
            responses[status.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = string.Join("; ", status.Distinct().Order().Select(code =>
                    $"{code}: {ApiCatalog.Codes.First(c => c.Code == code).Meaning}")),
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [RongCloudResults.ContentType] = new() { Schema = new OpenApiSchemaReference("Error", document) },
                },
            };
        }
        return responses;
    }

    private static OpenApiSchema Schema(ApiParameter p)
    {
        var value = new OpenApiSchema
        {
            Type = p.Integer ? JsonSchemaType.Integer : JsonSchemaType.String,
            MaxLength = p.Integer ? null : p.MaxLength,
            Minimum = p.Minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Maximum = p.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            MinLength = p.Required && !p.Integer ? 1 : null,
        };
        return p.Repeated
            ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = value, MaxItems = p.MaxCount, MinItems = p.Required ? 1 : null, Description = p.Description }
            : Describe(value, p.Description);
    }

    private static OpenApiSchema Describe(OpenApiSchema schema, string description)
    {
        schema.Description = description;
        return schema;
    }
}
