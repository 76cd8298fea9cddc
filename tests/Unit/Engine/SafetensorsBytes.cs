using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MicroGpt.Tests.Engine;

/// <summary>A safetensors file taken apart (its header as JSON, its data) and put together again, for tests that edit one.</summary>
sealed class SafetensorsBytes
{
    public SafetensorsBytes(byte[] file)
    {
        int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        Header = JsonNode.Parse(Encoding.UTF8.GetString(file, 8, length))!.AsObject();
        Data = file[(8 + length)..];
    }

    public JsonObject Header { get; }

    public byte[] Data { get; set; }

    public JsonObject Metadata => Header["__metadata__"]!.AsObject();

    /// <summary>The model's description (the metadata's JSON string), parsed; <see cref="SetDescription"/> puts an edited one back.</summary>
    public JsonObject Description => JsonNode.Parse(Metadata[Safetensors.DescriptionKey]!.GetValue<string>())!.AsObject();

    public void SetDescription(string json) => Metadata[Safetensors.DescriptionKey] = json;

    /// <summary>The file: the header (given as text, or the edited JSON) padded to 8 bytes, its length before it, the data after.</summary>
    public byte[] ToBytes(string? headerText = null)
    {
        var header = new StringBuilder(headerText ?? Header.ToJsonString());
        while (Encoding.UTF8.GetByteCount(header.ToString()) % 8 != 0) header.Append(' ');
        byte[] text = Encoding.UTF8.GetBytes(header.ToString());
        var file = new byte[8 + text.Length + Data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)text.Length);
        text.CopyTo(file, 8);
        Data.CopyTo(file, 8 + text.Length);
        return file;
    }

    /// <summary>
    /// JSON text of <paramref name="root"/> in which one property of one object (picked at random
    /// among all objects of the tree) is written twice, with the same value: a key given twice.
    /// </summary>
    public static string WithDuplicateKey(JsonNode root, Random rng)
    {
        var objects = new List<JsonObject>();
        Collect(root, objects);
        var target = objects.Where(o => o.Count > 0).ToList()[rng.Next(objects.Count(o => o.Count > 0))];
        string key = target.ElementAt(rng.Next(target.Count)).Key;
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer)) Write(json, root, target, key);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    static void Collect(JsonNode? node, List<JsonObject> objects)
    {
        if (node is JsonObject o) { objects.Add(o); foreach (var p in o) Collect(p.Value, objects); }
        else if (node is JsonArray a) foreach (var item in a) Collect(item, objects);
    }

    static void Write(Utf8JsonWriter json, JsonNode? node, JsonObject target, string key)
    {
        switch (node)
        {
            case JsonObject o:
                json.WriteStartObject();
                foreach (var (name, value) in o)
                {
                    for (int times = ReferenceEquals(o, target) && name == key ? 2 : 1; times > 0; times--)
                    {
                        json.WritePropertyName(name);
                        Write(json, value, target, key);
                    }
                }
                json.WriteEndObject();
                break;
            case JsonArray a:
                json.WriteStartArray();
                foreach (var item in a) Write(json, item, target, key);
                json.WriteEndArray();
                break;
            case null:
                json.WriteNullValue();
                break;
            default:
                node.WriteTo(json);
                break;
        }
    }
}
