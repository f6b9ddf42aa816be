// Fixed-width unsigned integers as big-endian bytes (most significant first): the one encoding
// of an integer in every binary format of Trellis — field envelopes and their AD, the key-ring
// file and encrypted files (docs/formats/field-envelope.md), the audit checkpoint message
// (docs/formats/audit-chain.md) and the sealed column of a stored record. Stored bytes depend
// on it, so BigEndian.* in core_test.cc pins it.
//
// A store writes, and a load reads, exactly 2, 4 or 8 bytes at `p`, which needs no alignment;
// nothing is bounds-checked (the caller checks the length first). A value wider than the
// field is the caller's to narrow (static_cast): its high bits are not written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace trellis {

namespace big_endian_internal {

template <typename T>
inline void Store(void* p, T v) {
  auto* out = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<unsigned char>(v >> (8 * (sizeof(T) - 1 - i)));
}

template <typename T>
inline T Load(const void* p) {
  const auto* in = static_cast<const unsigned char*>(p);
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | in[i]);
  return v;
}

template <typename T>
inline void Append(std::string* out, T v) {
  char b[sizeof(T)];
  Store(b, v);
  out->append(b, sizeof b);
}

}  // namespace big_endian_internal

inline void StoreBigEndian16(void* p, uint16_t v) { big_endian_internal::Store(p, v); }
inline void StoreBigEndian32(void* p, uint32_t v) { big_endian_internal::Store(p, v); }
inline void StoreBigEndian64(void* p, uint64_t v) { big_endian_internal::Store(p, v); }

inline uint16_t LoadBigEndian16(const void* p) { return big_endian_internal::Load<uint16_t>(p); }
inline uint32_t LoadBigEndian32(const void* p) { return big_endian_internal::Load<uint32_t>(p); }
inline uint64_t LoadBigEndian64(const void* p) { return big_endian_internal::Load<uint64_t>(p); }

inline void AppendBigEndian16(std::string* out, uint16_t v) { big_endian_internal::Append(out, v); }
inline void AppendBigEndian32(std::string* out, uint32_t v) { big_endian_internal::Append(out, v); }
inline void AppendBigEndian64(std::string* out, uint64_t v) { big_endian_internal::Append(out, v); }

}  // namespace trellis
