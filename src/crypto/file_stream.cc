#include "crypto/file_stream.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "core/big_endian.h"

namespace trellis::crypto {
namespace {

constexpr char kMagic[] = "TRELLIS-STREAM-1\n";
constexpr size_t kMagicLen = sizeof(kMagic) - 1;
constexpr size_t kChunk = 64 * 1024;

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

File OpenOut(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  return File(fd < 0 ? nullptr : ::fdopen(fd, "wb"));
}

bool WriteU32(FILE* f, uint32_t v) {
  uint8_t b[4];
  StoreBigEndian32(b, v);
  return std::fwrite(b, 1, 4, f) == 4;
}
bool ReadU32(FILE* f, uint32_t* v) {
  uint8_t b[4];
  if (std::fread(b, 1, 4, f) != 4) return false;
  *v = LoadBigEndian32(b);
  return true;
}
bool SyncAndClose(File f) {
  if (std::fflush(f.get()) != 0) return false;
  bool ok = ::fsync(::fileno(f.get())) == 0;
  return std::fclose(f.release()) == 0 && ok;
}

}  // namespace

Status EncryptFile(const Key32& key, uint32_t key_id, const std::string& in_path, const std::string& out_path) {
  InitCrypto();
  File in(std::fopen(in_path.c_str(), "rb"));
  if (!in) return Status::Internal("cannot read the file to encrypt");
  File out = OpenOut(out_path);
  if (!out) return Status::Internal("cannot create the encrypted file");
  crypto_secretstream_xchacha20poly1305_state st;
  uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(&st, header, key.data());
  bool ok = std::fwrite(kMagic, 1, kMagicLen, out.get()) == kMagicLen && WriteU32(out.get(), key_id) &&
            std::fwrite(header, 1, sizeof header, out.get()) == sizeof header;
  std::vector<uint8_t> buf(kChunk), ct(kChunk + crypto_secretstream_xchacha20poly1305_ABYTES);
  while (ok) {
    size_t n = std::fread(buf.data(), 1, kChunk, in.get());
    bool last = n < kChunk;
    if (last && std::ferror(in.get())) {
      ok = false;
      break;
    }
    unsigned long long clen = 0;
    crypto_secretstream_xchacha20poly1305_push(&st, ct.data(), &clen, buf.data(), n, nullptr, 0,
                                               last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    ok = WriteU32(out.get(), static_cast<uint32_t>(clen)) && std::fwrite(ct.data(), 1, clen, out.get()) == clen;
    if (last) break;
  }
  Wipe(buf.data(), buf.size());
  if (!ok || !SyncAndClose(std::move(out))) {
    std::remove(out_path.c_str());
    return Status::Internal("writing the encrypted file failed");
  }
  return Status::Ok();
}

Result<uint32_t> EncryptedFileKeyId(const std::string& path) {
  File in(std::fopen(path.c_str(), "rb"));
  if (!in) return Status::NotFound("no such file");
  char magic[kMagicLen];
  uint32_t id = 0;
  if (std::fread(magic, 1, kMagicLen, in.get()) != kMagicLen || std::string_view(magic, kMagicLen) != kMagic ||
      !ReadU32(in.get(), &id)) {
    return Status::DataLoss("not a Trellis encrypted file");
  }
  return id;
}

Status DecryptFile(const Key32& key, const std::string& in_path, const std::string& out_path) {
  InitCrypto();
  File in(std::fopen(in_path.c_str(), "rb"));
  if (!in) return Status::NotFound("no such file");
  char magic[kMagicLen];
  uint32_t id = 0;
  uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  if (std::fread(magic, 1, kMagicLen, in.get()) != kMagicLen || std::string_view(magic, kMagicLen) != kMagic ||
      !ReadU32(in.get(), &id) || std::fread(header, 1, sizeof header, in.get()) != sizeof header) {
    return Status::DataLoss("not a Trellis encrypted file");
  }
  crypto_secretstream_xchacha20poly1305_state st;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&st, header, key.data()) != 0) {
    return Status::DataLoss("bad stream header");
  }
  File out = OpenOut(out_path);
  if (!out) return Status::Internal("cannot create the decrypted file");
  std::vector<uint8_t> ct(kChunk + crypto_secretstream_xchacha20poly1305_ABYTES), pt(kChunk);
  bool ok = true, final = false;
  while (ok && !final) {
    uint32_t len = 0;
    if (!ReadU32(in.get(), &len) || len > ct.size() || len < crypto_secretstream_xchacha20poly1305_ABYTES ||
        std::fread(ct.data(), 1, len, in.get()) != len) {
      ok = false;
      break;
    }
    unsigned long long plen = 0;
    uint8_t tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&st, pt.data(), &plen, &tag, ct.data(), len, nullptr, 0) != 0) {
      ok = false;
      break;
    }
    final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    ok = std::fwrite(pt.data(), 1, plen, out.get()) == plen;
  }
  if (ok && final && std::fgetc(in.get()) != EOF) ok = false;  // bytes after the final chunk
  Wipe(pt.data(), pt.size());
  if (!ok || !final || !SyncAndClose(std::move(out))) {
    std::remove(out_path.c_str());
    return Status::DataLoss("the encrypted file is damaged, truncated or the key is wrong");
  }
  return Status::Ok();
}

}  // namespace trellis::crypto
