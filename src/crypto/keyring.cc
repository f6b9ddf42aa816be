#include "crypto/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <cerrno>

#include "core/big_endian.h"
#include "crypto/envelope.h"

namespace trellis::crypto {
namespace {

constexpr char kMagic[] = "TRELLIS-KEYRING-1\n";
constexpr size_t kMagicLen = sizeof(kMagic) - 1;
constexpr uint8_t kPlain = 0, kPassphrase = 1;

// Wipes a string holding key bytes on every way out of a scope. The strings that hold keys are
// sized before they are filled, so no reallocation leaves an unwiped copy in freed memory.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& s) : s_(s) {}
  ~WipeOnExit() { Wipe(s_.data(), s_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& s_;
};

// The whole key file, read straight into a string of its size (an ifstream and a stringstream
// would each keep a copy in a buffer nobody wipes).
Result<std::string> ReadKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kFailedPrecondition, "no key file at " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < 0 || st.st_size > (64 << 20)) {
    ::close(fd);
    return Status::DataLoss("not a Trellis key file");
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != bytes.size()) {
    Wipe(bytes.data(), bytes.size());
    return Status::Internal("cannot read the key file");
  }
  return bytes;
}

Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write the key file");
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write the key file");
  }
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<KeyRing> KeyRing::Generate() {
  std::unique_ptr<KeyRing> ring(new KeyRing());
  ring->masters_.emplace(1, Key32::Random());
  ring->current_ = 1;
  ring->signing_seed_ = Key32::Random();
  ring->signer_ = std::make_unique<SigningKey>(ring->signing_seed_);
  return ring;
}

const Key32* KeyRing::Master(uint32_t version) const {
  auto it = masters_.find(version);
  return it == masters_.end() ? nullptr : &it->second;
}

std::vector<uint32_t> KeyRing::Versions() const {
  std::vector<uint32_t> v;
  for (const auto& [ver, _] : masters_) v.push_back(ver);
  return v;
}

uint32_t KeyRing::Rotate() {
  uint32_t next = masters_.rbegin()->first + 1;
  masters_.emplace(next, Key32::Random());
  current_ = next;
  return next;
}

void KeyRing::RetireOldVersions() {
  for (auto it = masters_.begin(); it != masters_.end();) {
    it = it->first < current_ ? masters_.erase(it) : std::next(it);
  }
}

// Payload: u64 current | u64 count | count x (u64 version | 32 key) | 32 signing seed.
Status KeyRing::Save(const std::string& path, const std::string& passphrase, bool fast_kdf) const {
  const size_t payload_size = 16 + masters_.size() * (8 + kKeyBytes) + kKeyBytes;
  std::string payload;
  payload.reserve(payload_size);
  WipeOnExit wipe_payload(payload);
  AppendBigEndian64(&payload, current_);
  AppendBigEndian64(&payload, masters_.size());
  for (const auto& [ver, key] : masters_) {
    AppendBigEndian64(&payload, ver);
    payload.append(reinterpret_cast<const char*>(key.data()), kKeyBytes);
  }
  payload.append(reinterpret_cast<const char*>(signing_seed_.data()), kKeyBytes);

  std::string file;
  file.reserve(kMagicLen + 1 + payload_size + 128);  // + salt, KDF limits, box nonce and tag
  WipeOnExit wipe_file(file);
  file.append(kMagic, kMagicLen);
  if (passphrase.empty()) {
    file.push_back(static_cast<char>(kPlain));
    file += payload;
  } else {
    file.push_back(static_cast<char>(kPassphrase));
    std::string salt(16, '\0');
    RandomBytes(reinterpret_cast<uint8_t*>(salt.data()), salt.size());
    uint64_t ops = fast_kdf ? 1 : PassphraseOpsLimit();
    uint64_t mem = fast_kdf ? 8192 * 1024 : PassphraseMemLimit();
    auto kek = DeriveKeyFromPassphrase(passphrase, salt, ops, mem);
    if (!kek.ok()) return kek.status();
    file += salt;
    AppendBigEndian64(&file, ops);
    AppendBigEndian64(&file, mem);
    file += SealBox(*kek, file, payload);
  }
  return WriteFileAtomically(path, file);
}

Result<std::unique_ptr<KeyRing>> KeyRing::Load(const std::string& path, const std::string& passphrase) {
  TRELLIS_ASSIGN_OR_RETURN(std::string file, ReadKeyFile(path));
  WipeOnExit wipe_file(file);
  if (file.size() < kMagicLen + 1 || file.compare(0, kMagicLen, kMagic) != 0) {
    return Status::DataLoss("not a Trellis key file");
  }
  std::string payload;
  WipeOnExit wipe_payload(payload);
  const uint8_t mode = static_cast<uint8_t>(file[kMagicLen]);
  if (mode == kPlain) {
    payload = file.substr(kMagicLen + 1);
  } else if (mode == kPassphrase) {
    if (passphrase.empty()) {
      return Status(Code::kUnauthenticated, "the key file is sealed: a passphrase is required");
    }
    const size_t hdr = kMagicLen + 1 + 16 + 16;
    if (file.size() < hdr) return Status::DataLoss("truncated key file");
    auto kek = DeriveKeyFromPassphrase(passphrase, std::string_view(file).substr(kMagicLen + 1, 16),
                                       LoadBigEndian64(file.data() + kMagicLen + 17),
                                       LoadBigEndian64(file.data() + kMagicLen + 25));
    if (!kek.ok()) return kek.status();
    auto opened = OpenBox(*kek, std::string_view(file).substr(0, hdr), std::string_view(file).substr(hdr));
    if (!opened.ok()) return Status(Code::kUnauthenticated, "wrong passphrase or damaged key file");
    payload = std::move(opened).value();
  } else {
    return Status::DataLoss("unknown key file mode");
  }

  std::unique_ptr<KeyRing> ring(new KeyRing());
  if (payload.size() < 16) return Status::DataLoss("truncated key file");
  ring->current_ = static_cast<uint32_t>(LoadBigEndian64(payload.data()));
  uint64_t count = LoadBigEndian64(payload.data() + 8);
  if (count == 0 || count > 1'000'000 || payload.size() != 16 + count * (8 + kKeyBytes) + kKeyBytes) {
    return Status::DataLoss("malformed key file");
  }
  size_t at = 16;
  for (uint64_t i = 0; i < count; ++i, at += 8 + kKeyBytes) {
    uint32_t ver = static_cast<uint32_t>(LoadBigEndian64(payload.data() + at));
    ring->masters_.emplace(ver, Key32::FromBytes({reinterpret_cast<const uint8_t*>(payload.data()) + at + 8, kKeyBytes}));
  }
  ring->signing_seed_ = Key32::FromBytes({reinterpret_cast<const uint8_t*>(payload.data()) + at, kKeyBytes});
  if (!ring->Master(ring->current_)) return Status::DataLoss("key file lacks its current key");
  ring->signer_ = std::make_unique<SigningKey>(ring->signing_seed_);
  return ring;
}

}  // namespace trellis::crypto
