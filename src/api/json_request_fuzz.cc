// libFuzzer target: the JSON request decoders of the API (record create/update bodies).
// Must never crash, throw or hang; every input either decodes or yields an error naming a field.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/dto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  for (auto kind : {trellis::domain::RecordKind::kSurvivor, trellis::domain::RecordKind::kCase}) {
    for (bool create : {true, false}) {
      int64_t version = 0;
      auto r = trellis::api::DecodeRecordBody(kind, "application/json", body, create, &version);
      if (!r.ok() && r.status().message().empty()) __builtin_trap();
    }
  }
  return 0;
}
