#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crypto/envelope.h"
#include "crypto/file_stream.h"
#include "crypto/keyring.h"
#include "crypto/primitives.h"
#include "support/test_dir.h"

namespace trellis::crypto {
namespace {

TEST(FieldCipher, RoundTripsAndBindsRecordFieldAndKey) {
  Key32 k = Key32::Random();
  std::string env = SealField(k, 1, "s_rec1", "prs_FirstName", "Maria");
  EXPECT_EQ(env.find("Maria"), std::string::npos);
  EXPECT_EQ(*OpenField(k, "s_rec1", "prs_FirstName", env), "Maria");
  // S5: swapping ciphertexts between fields or records fails to open.
  EXPECT_EQ(OpenField(k, "s_rec1", "prs_SecondName", env).status().code(), Code::kDataLoss);
  EXPECT_EQ(OpenField(k, "s_rec2", "prs_FirstName", env).status().code(), Code::kDataLoss);
  EXPECT_FALSE(OpenField(Key32::Random(), "s_rec1", "prs_FirstName", env).ok());
  // Changing the recorded key version changes the AD.
  std::string bumped = env;
  bumped[4] = 2;
  EXPECT_FALSE(OpenField(k, "s_rec1", "prs_FirstName", bumped).ok());
  std::string flipped = env;
  flipped.back() ^= 1;
  EXPECT_FALSE(OpenField(k, "s_rec1", "prs_FirstName", flipped).ok());
  EXPECT_FALSE(OpenField(k, "s_rec1", "prs_FirstName", "short").ok());
}

// SealFieldTo (the import seals into the record's buffer) makes the same kind of envelope:
// the size SealedFieldSize says, bound to record, field and key version like SealField's.
TEST(FieldCipher, SealFieldToIsSealFieldInPlace) {
  Key32 k = Key32::Random();
  for (std::string_view value : {std::string_view(""), std::string_view("Maria"), std::string_view("x\0y", 3)}) {
    std::string env(SealedFieldSize(value.size()) + 2, '#');
    SealFieldTo(env.data() + 1, k, 7, "s_rec1", "prs_FirstName", value);
    EXPECT_EQ(env.front(), '#');
    EXPECT_EQ(env.back(), '#');  // writes exactly SealedFieldSize bytes
    env = env.substr(1, env.size() - 2);
    EXPECT_EQ(env.size(), SealField(k, 7, "s_rec1", "prs_FirstName", value).size());
    EXPECT_EQ(EnvelopeKeyVersion(env), 7u);
    EXPECT_EQ(*OpenField(k, "s_rec1", "prs_FirstName", env), value);
    EXPECT_FALSE(OpenField(k, "s_rec1", "prs_SecondName", env).ok());
    EXPECT_FALSE(OpenField(k, "s_rec2", "prs_FirstName", env).ok());
  }
}

// The envelope bytes of docs/formats/field-envelope.md: version 0x01, the key version as a
// big-endian u32, the nonce; the AD with its u32s big-endian too. Every envelope ever stored
// depends on them, so they are pinned here rather than only round-tripped.
TEST(FieldCipher, HeaderAndAdBytesFollowTheFormat) {
  Key32 k = Key32::Random();
  for (const auto& [version, header] :
       {std::pair<uint32_t, std::string>{1, std::string("\x01\x00\x00\x00\x01", 5)},
        {0xa1b2c3d4, std::string("\x01\xa1\xb2\xc3\xd4", 5)}}) {
    EXPECT_EQ(SealField(k, version, "s_rec1", "prs_FirstName", "Maria").substr(0, 5), header);
    std::string in_place(SealedFieldSize(5), '\0');
    SealFieldTo(in_place.data(), k, version, "s_rec1", "prs_FirstName", "Maria");
    EXPECT_EQ(in_place.substr(0, 5), header);
    EXPECT_EQ(WrapDataKey(k, version, "s_rec1", Key32::Random()).substr(0, 5), header);
  }

  // An envelope built by hand from the format document opens.
  const std::string ad = std::string("F\x00\x00\x00\x06s_rec1prs_FirstName\xa1\xb2\xc3\xd4", 5 + 6 + 13 + 4);
  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  randombytes_buf(nonce, sizeof nonce);
  std::string env =
      std::string("\x01\xa1\xb2\xc3\xd4", 5) + std::string(reinterpret_cast<char*>(nonce), sizeof nonce);
  std::string ct(5 + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<uint8_t*>(ct.data()), &clen, reinterpret_cast<const uint8_t*>("Maria"), 5,
      reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr, nonce, k.data());
  env += ct;
  EXPECT_EQ(EnvelopeKeyVersion(env), 0xa1b2c3d4u);
  auto opened = OpenField(k, "s_rec1", "prs_FirstName", env);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "Maria");
}

// Keys come from a per-thread buffer of random bytes and nonces from a per-thread stream: each
// byte is handed out once, also across threads and across a fork (the child drops the parent's
// buffer and stream).
TEST(Randomness, KeysAndNoncesNeverRepeatAcrossThreadsAndFork) {
  std::set<std::string> keys, nonces;
  auto draw = [](int n, std::vector<std::string>* ks, std::vector<std::string>* ns) {
    const Key32 field_key = Key32::Random();
    for (int i = 0; i < n; ++i) {
      Key32 k = Key32::Random();
      ks->emplace_back(reinterpret_cast<const char*>(k.data()), kKeyBytes);
      ns->push_back(SealField(field_key, 1, "s_r", "f", "v").substr(5, 24));
    }
  };
  std::vector<std::string> ks[3], ns[3];
  draw(300, &ks[0], &ns[0]);  // the parent's buffer and stream are now part-used
  std::thread t(draw, 300, &ks[1], &ns[1]);
  t.join();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::vector<std::string> cks, cns;
    draw(50, &cks, &cns);
    std::string out;
    for (size_t i = 0; i < cks.size(); ++i) out += cks[i] + cns[i];
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  ASSERT_EQ(got.size(), 50u * (kKeyBytes + 24));
  for (size_t i = 0; i < 50; ++i) {
    ks[2].push_back(got.substr(i * (kKeyBytes + 24), kKeyBytes));
    ns[2].push_back(got.substr(i * (kKeyBytes + 24) + kKeyBytes, 24));
  }
  draw(50, &ks[0], &ns[0]);  // the parent goes on after the fork
  size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    keys.insert(ks[i].begin(), ks[i].end());
    nonces.insert(ns[i].begin(), ns[i].end());
    total += ks[i].size();
  }
  EXPECT_EQ(keys.size(), total);
  EXPECT_EQ(nonces.size(), total);
  EXPECT_EQ(keys.count(std::string(kKeyBytes, '\0')), 0u);
}

TEST(FieldCipher, SwappedCiphertextsBetweenTwoRecordsFail) {
  Key32 k = Key32::Random();
  std::string a = SealField(k, 1, "s_a", "prs_Email", "a@example.org");
  std::string b = SealField(k, 1, "s_b", "prs_Email", "b@example.org");
  EXPECT_FALSE(OpenField(k, "s_a", "prs_Email", b).ok());
  EXPECT_FALSE(OpenField(k, "s_b", "prs_Email", a).ok());
}

TEST(DataKeys, WrapUnwrapAndRotationRewrap) {
  auto ring = KeyRing::Generate();
  Key32 dk = Key32::Random();
  std::string wrapped = WrapDataKey(ring->CurrentMaster(), ring->current_version(), "s_x", dk);
  EXPECT_EQ(WrappedMasterVersion(wrapped), 1u);
  auto back = UnwrapDataKey(ring->CurrentMaster(), "s_x", wrapped);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(0, sodium_memcmp(back->data(), dk.data(), kKeyBytes));
  EXPECT_FALSE(UnwrapDataKey(ring->CurrentMaster(), "s_y", wrapped).ok());
  uint32_t v2 = ring->Rotate();
  std::string rewrapped = WrapDataKey(ring->CurrentMaster(), v2, "s_x", *back);
  EXPECT_EQ(WrappedMasterVersion(rewrapped), 2u);
  ring->RetireOldVersions();
  EXPECT_EQ(ring->Master(1), nullptr);
  EXPECT_TRUE(UnwrapDataKey(*ring->Master(2), "s_x", rewrapped).ok());
}

TEST(KeyRingFile, PlainAndPassphraseForms) {
  auto ring = KeyRing::Generate();
  ring->Rotate();
  const testing::TestDir dir;
  std::string plain = dir.path() + "/kr_plain", sealed = dir.path() + "/kr_sealed";
  ASSERT_TRUE(ring->Save(plain).ok());
  struct stat sb{};
  ASSERT_EQ(::stat(plain.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  auto loaded = KeyRing::Load(plain);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->current_version(), 2u);
  EXPECT_EQ(0, sodium_memcmp((*loaded)->CurrentMaster().data(), ring->CurrentMaster().data(), kKeyBytes));
  EXPECT_EQ((*loaded)->audit_signer().PublicKey(), ring->audit_signer().PublicKey());

  ASSERT_TRUE(ring->Save(sealed, "correct horse battery staple", /*fast_kdf=*/true).ok());
  EXPECT_EQ(KeyRing::Load(sealed).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(KeyRing::Load(sealed, "wrong").status().code(), Code::kUnauthenticated);
  auto opened = KeyRing::Load(sealed, "correct horse battery staple");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(0, sodium_memcmp((*opened)->Master(1)->data(), ring->Master(1)->data(), kKeyBytes));
}

TEST(Key32, IsWipedOnMoveAndNotCopyable) {
  static_assert(!std::is_copy_constructible_v<Key32>);
  static_assert(!std::is_copy_assignable_v<Key32>);
  Key32 a = Key32::Random();
  EXPECT_FALSE(a.IsZero());
  Key32 b = std::move(a);
  EXPECT_TRUE(a.IsZero());  // NOLINT(bugprone-use-after-move): the moved-from key is wiped
  EXPECT_FALSE(b.IsZero());
}

// Slots are cached per thread (KeySlots): a key made after others were dropped — on this
// thread, on another, or by a thread that has ended — starts zeroed, and no two live keys share
// a slot.
TEST(Key32, SlotsStartZeroedAndAreNeverShared) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<const uint8_t*> live;
  std::atomic<int> faults{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 200; ++round) {
        std::vector<Key32> keys;
        keys.reserve(40);  // no reallocation: a moved key takes a slot of its own
        for (int i = 0; i < 1 + round % 37; ++i) {
          Key32& k = keys.emplace_back();
          if (!k.IsZero()) ++faults;
          k.mutable_data()[0] = 1;
          std::lock_guard lock(mu);
          if (!live.insert(k.data()).second) ++faults;
        }
        std::lock_guard lock(mu);
        for (const auto& k : keys) live.erase(k.data());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(faults.load(), 0);
  Key32 after;  // from the slots the ended threads gave back
  EXPECT_TRUE(after.IsZero());
}

TEST(Passwords, Argon2idInteractiveOrStronger) {
  auto h = HashPassword("a long enough passphrase");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  // Parse the stored parameters: m (KiB) and t must be at least libsodium's INTERACTIVE.
  unsigned m = 0, t = 0, p = 0;
  ASSERT_EQ(std::sscanf(h->c_str(), "$argon2id$v=19$m=%u,t=%u,p=%u", &m, &t, &p), 3);
  EXPECT_GE(static_cast<size_t>(m) * 1024, static_cast<size_t>(crypto_pwhash_MEMLIMIT_INTERACTIVE));
  EXPECT_GE(t, crypto_pwhash_OPSLIMIT_INTERACTIVE);
  EXPECT_TRUE(VerifyPassword(*h, "a long enough passphrase"));
  EXPECT_FALSE(VerifyPassword(*h, "a long enough passphrasE"));
  EXPECT_FALSE(VerifyPassword(DummyPasswordHash(), "anything"));
}

TEST(Signatures, Ed25519) {
  Key32 seed = Key32::Random();
  SigningKey sk(seed);
  std::string sig = sk.Sign("checkpoint");
  EXPECT_TRUE(VerifySignature(sk.PublicKey(), "checkpoint", sig));
  EXPECT_FALSE(VerifySignature(sk.PublicKey(), "checkpoinT", sig));
}

// RFC 8032, section 7.1, TEST 1: the key pair and signature of the standard's own vector.
TEST(Signatures, Ed25519KnownAnswer) {
  auto seed_bytes = FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(seed_bytes.ok());
  Key32 seed = Key32::FromBytes({reinterpret_cast<const uint8_t*>(seed_bytes->data()), seed_bytes->size()});
  SigningKey sk(seed);
  EXPECT_EQ(ToHex(sk.PublicKey()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string sig = sk.Sign("");
  EXPECT_EQ(ToHex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_EQ(sk.Sign(""), sig);  // deterministic, the same key pair every time
}

TEST(Hash, Sha256MatchesThePortableCodeAtEveryLength) {
  // OpenSSL's SHA-256 (SHA extensions) against libsodium's, across the block and padding
  // boundaries (55/56/64 bytes) and beyond.
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string data;
  for (int len = 0; len < 1100; ++len) {
    ASSERT_EQ(Sha256(data), Sha256Portable(data)) << len;
    data.push_back(static_cast<char>((len * 131 + 7) & 0xff));
  }
  std::string other_thread;
  std::thread t([&] { other_thread = Sha256("abc"); });
  t.join();
  EXPECT_EQ(other_thread, Sha256Portable("abc"));
}

TEST(Encoding, HexAndBase64) {
  EXPECT_EQ(ToHex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*FromHex("00ff"), std::string("\x00\xff", 2));
  EXPECT_FALSE(FromHex("0g").ok());
  std::string t = NewTokenText();
  EXPECT_EQ(t.size(), 43u);
  EXPECT_EQ(FromBase64Url(t)->size(), 32u);
}

TEST(FileStream, RoundTripDetectsTamperingAndTruncation) {
  const testing::TestDir dir;
  std::string plain = dir.path() + "/fs_plain", enc = dir.path() + "/fs_enc", dec = dir.path() + "/fs_dec";
  std::string content(200'000, 'x');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
  std::ofstream(plain, std::ios::binary) << content;
  Key32 k = Key32::Random();
  ASSERT_TRUE(EncryptFile(k, 7, plain, enc).ok());
  EXPECT_EQ(*EncryptedFileKeyId(enc), 7u);
  ASSERT_TRUE(DecryptFile(k, enc, dec).ok());
  std::stringstream ss;
  ss << std::ifstream(dec, std::ios::binary).rdbuf();
  EXPECT_EQ(ss.str(), content);

  std::stringstream es;
  es << std::ifstream(enc, std::ios::binary).rdbuf();
  std::string bytes = es.str();
  std::string tampered = bytes;
  tampered[bytes.size() / 2] ^= 1;
  std::ofstream(enc + ".t", std::ios::binary) << tampered;
  EXPECT_EQ(DecryptFile(k, enc + ".t", dec).code(), Code::kDataLoss);
  std::ofstream(enc + ".t", std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  EXPECT_EQ(DecryptFile(k, enc + ".t", dec).code(), Code::kDataLoss);
  EXPECT_EQ(DecryptFile(Key32::Random(), enc, dec).code(), Code::kDataLoss);
}

}  // namespace
}  // namespace trellis::crypto
