// JSON request and response bodies of the API (DTOs), kept out of widely included headers.
// Decoders are strict: unknown properties, wrong types, invalid UTF-8, nesting deeper than 16
// and values outside the field table are errors naming the field; they never throw.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/app.h"

namespace trellis::api {

// Parses a JSON object body (content type application/json).
Result<nlohmann::json> ParseJsonBody(const std::string& content_type, const std::string& body);
// Fails naming the first property of `j` not in `allowed`.
Status OnlyKeys(const nlohmann::json& j, std::initializer_list<const char*> allowed);
// A record create (or, with create=false, update: then *version is set) body.
Result<app::RecordInput> DecodeRecordBody(domain::RecordKind kind, const std::string& content_type,
                                          const std::string& body, bool create, int64_t* version);
Result<app::RecordInput> InputFromJson(domain::RecordKind kind, const nlohmann::json& body, bool create);
// A record as the API answers it, and a page of records ({"items": [...], "next_cursor": ...}).
Result<std::string> RecordJsonText(const app::RecordView& v);
Result<std::string> RecordPageJsonText(const std::vector<app::RecordView>& items, const std::string& next_cursor);

}  // namespace trellis::api
