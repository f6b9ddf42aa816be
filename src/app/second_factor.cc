// The TOTP second factor (SECURITY.md S8): enrolment, confirmation, recovery codes, disabling,
// reset by an administrator, and the check Login makes. The secret is sealed at rest under a
// subkey of the master key (crypto::SealBox; AD binds the user id); recovery codes are stored
// as SHA-256 hashes only; each TOTP step and each recovery code is accepted once.
#include <algorithm>
#include <cctype>
#include <mutex>
#include <shared_mutex>

#include "app/app.h"
#include "app/impl.h"
#include "crypto/envelope.h"
#include "crypto/primitives.h"
#include "crypto/totp.h"

namespace trellis::app {
namespace {

constexpr char kIssuer[] = "Trellis";
constexpr int kRecoveryCodes = 10;
constexpr char kPending[] = "pending";
constexpr char kEnabled[] = "enabled";
// Recovery codes: 10 characters of an alphabet without look-alikes (0/O, 1/I) = 50 bits each,
// shown as XXXXX-XXXXX.
constexpr char kRecoveryAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

crypto::Key32 SecretKey(const crypto::Key32& master) { return crypto::DeriveSubkey(master, 1, "totp2fa_"); }
std::string SecretAd(const std::string& user_id) { return "trellis.second_factor.v1|" + user_id; }

// Wipes a secret held in a std::string when it goes out of scope.
struct Wiped {
  std::string bytes;
  ~Wiped() { crypto::Wipe(bytes.data(), bytes.size()); }
};

std::string Seal(const crypto::KeyRing& ring, uint32_t version, const std::string& user_id, const std::string& secret) {
  return crypto::SealBox(SecretKey(*ring.Master(version)), SecretAd(user_id), secret);
}

std::string NormaliseRecovery(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string RecoveryHash(const std::string& user_id, const std::string& normalised) {
  return crypto::ToHex(crypto::Sha256("trellis.recovery.v1|" + user_id + "|" + normalised));
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string JoinComma(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

bool IsTotpCode(const std::string& code) {
  return code.size() == crypto::kTotpDigits &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The user behind a principal of a signed-in browser session, with the second-factor row (if any).
Result<storage::UserRow> SessionUser(App::Impl& impl, const Principal& p) {
  if (!p.via_cookie) return Status::Forbidden("manage your second factor from a signed-in browser session");
  auto row = impl.store->GetUserById(p.user.id);
  if (!row.ok()) return Status::Unauthenticated();
  return row;
}

}  // namespace

// Opens the sealed secret, reloading the key ring once when another process rotated it.
static Result<std::string> OpenSecret(App::Impl& impl, const storage::SecondFactorRow& row) {
  const auto version = static_cast<uint32_t>(row.key_version);
  {
    std::shared_lock lock(impl.keys_mu);
    if (const crypto::Key32* master = impl.keys->Master(version)) {
      return crypto::OpenBox(SecretKey(*master), SecretAd(row.user_id), row.secret_sealed);
    }
  }
  auto reloaded = crypto::KeyRing::Load(impl.KeyPath(), impl.passphrase);
  if (!reloaded.ok()) return reloaded.status();
  std::unique_lock lock(impl.keys_mu);
  impl.keys = std::move(reloaded).value();
  const crypto::Key32* master = impl.keys->Master(version);
  if (!master) return Status::DataLoss("the master key version of a second factor is not in the key ring");
  return crypto::OpenBox(SecretKey(*master), SecretAd(row.user_id), row.secret_sealed);
}

// The step `code` matches (±1 step) and that was not used before, or nullopt.
static std::optional<int64_t> FreshStep(App::Impl& impl, const storage::SecondFactorRow& row, const std::string& code,
                                        int64_t now_micros) {
  if (!IsTotpCode(code)) return std::nullopt;
  auto secret = OpenSecret(impl, row);
  if (!secret.ok()) return std::nullopt;
  Wiped s{std::move(secret).value()};
  auto step = crypto::TotpMatch(s.bytes, now_micros / 1'000'000, code, 1);
  if (!step || *step <= row.last_step) return std::nullopt;  // replay: a step is accepted once
  return step;
}

Status UseSecondFactor(App::Impl& impl, const storage::SecondFactorRow& row, const std::string& code, int64_t now,
                       const Principal& who, const std::string& request_id) {
  storage::SecondFactorRow next = row;
  next.version = row.version + 1;
  next.updated_at = now;
  bool recovery = false;
  if (auto step = FreshStep(impl, row, code, now)) {
    next.last_step = *step;
  } else if (!IsTotpCode(code) && !code.empty() && code.size() <= 64) {
    const std::string want = RecoveryHash(row.user_id, NormaliseRecovery(code));
    std::vector<std::string> left;
    bool found = false;
    for (const auto& h : SplitComma(row.recovery_hashes)) {
      if (!found && crypto::ConstantTimeEquals(h, want)) {
        found = true;
      } else {
        left.push_back(h);
      }
    }
    if (!found) return Status::Unauthenticated();
    next.recovery_hashes = JoinComma(left);
    recovery = true;
  } else {
    return Status::Unauthenticated();
  }
  // Two requests racing with the same code: the store lets one of them through.
  Status st = impl.store->Write([&](storage::Txn& t) { return t.UpdateSecondFactor(next, row.version); });
  if (st.code() == Code::kConflict || st.code() == Code::kNotFound) return Status::Unauthenticated();
  TRELLIS_RETURN_IF_ERROR(st);
  if (recovery) {
    TRELLIS_RETURN_IF_ERROR(impl.AuditEntry(who, "second_factor.recovery_used", "ok", row.user_id, "", request_id,
                                            "left=" + std::to_string(SplitComma(next.recovery_hashes).size())));
  }
  return Status::Ok();
}

Result<std::vector<storage::SecondFactorRow>> ResealSecondFactors(App::Impl& impl, const crypto::KeyRing& ring,
                                                                  uint32_t next) {
  auto rows = impl.store->ListSecondFactors();
  if (!rows.ok()) return rows.status();
  for (auto& row : *rows) {
    const crypto::Key32* old = ring.Master(static_cast<uint32_t>(row.key_version));
    if (!old) return Status::DataLoss("a second factor names a master key version that is gone");
    auto secret = crypto::OpenBox(SecretKey(*old), SecretAd(row.user_id), row.secret_sealed);
    if (!secret.ok()) return secret.status();
    Wiped s{std::move(secret).value()};
    row.secret_sealed = Seal(ring, next, row.user_id, s.bytes);
    row.key_version = next;
    ++row.version;  // stored only if no login changed the row meanwhile
  }
  return rows;
}

Result<App::SecondFactorStatus> App::SecondFactor(const Principal& p) {
  auto row = impl_->store->GetSecondFactor(p.user.id);
  SecondFactorStatus out;
  if (!row.ok()) {
    if (row.status().code() == Code::kNotFound) return out;
    return row.status();
  }
  out.enabled = row->state == kEnabled;
  out.pending = row->state == kPending;
  out.recovery_codes_left = out.enabled ? static_cast<int>(SplitComma(row->recovery_hashes).size()) : 0;
  return out;
}

Result<App::TotpEnrolment> App::BeginTotp(const Principal& p, const std::string& request_id) {
  auto user = SessionUser(*impl_, p);
  if (!user.ok()) return user.status();
  auto existing = impl_->store->GetSecondFactor(p.user.id);
  if (existing.ok() && existing->state == kEnabled) {
    return Status::Conflict("the second factor is already on; turn it off first");
  }
  Wiped secret{crypto::NewTotpSecret()};
  const int64_t now = clock().NowMicros();
  storage::SecondFactorRow row;
  row.user_id = p.user.id;
  row.state = kPending;
  {
    std::shared_lock lock(impl_->keys_mu);
    row.key_version = impl_->keys->current_version();
    row.secret_sealed = Seal(*impl_->keys, impl_->keys->current_version(), row.user_id, secret.bytes);
  }
  row.version = existing.ok() ? existing->version + 1 : 1;
  row.created_at = row.updated_at = now;
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.PutSecondFactor(row); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "second_factor.begin", "ok", p.user.id, "", request_id));
  TotpEnrolment out;
  out.secret_base32 = crypto::Base32Encode(secret.bytes);
  out.otpauth_uri = crypto::TotpUri(kIssuer, user->user.username, secret.bytes);
  return out;
}

Result<std::vector<std::string>> App::ConfirmTotp(const Principal& p, const std::string& code,
                                                  const std::string& request_id) {
  auto user = SessionUser(*impl_, p);
  if (!user.ok()) return user.status();
  auto row = impl_->store->GetSecondFactor(p.user.id);
  if (!row.ok() || row->state != kPending) {
    return Status(Code::kFailedPrecondition, "start setting up the second factor first");
  }
  const int64_t now = clock().NowMicros();
  auto step = FreshStep(*impl_, *row, code, now);
  if (!step) {
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "second_factor.enable", "fail", p.user.id, "", request_id, "bad_code"));
    return Status::Invalid("is not the current code; check the time on your device and try again", "code");
  }
  std::vector<std::string> codes, hashes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    uint8_t raw[10];
    crypto::RandomBytes(raw, sizeof raw);
    std::string c;
    for (uint8_t b : raw) c += kRecoveryAlphabet[b & 31];
    crypto::Wipe(raw, sizeof raw);
    hashes.push_back(RecoveryHash(p.user.id, c));
    codes.push_back(c.substr(0, 5) + "-" + c.substr(5));
  }
  storage::SecondFactorRow next = *row;
  next.state = kEnabled;
  next.last_step = *step;  // the confirming code cannot be used again to log in
  next.recovery_hashes = JoinComma(hashes);
  next.version = row->version + 1;
  next.updated_at = now;
  Status st = impl_->store->Write([&](storage::Txn& t) { return t.UpdateSecondFactor(next, row->version); });
  if (st.code() == Code::kConflict || st.code() == Code::kNotFound) {
    return Status::Conflict("the second factor changed meanwhile; start again");
  }
  TRELLIS_RETURN_IF_ERROR(st);
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "second_factor.enable", "ok", p.user.id, "", request_id));
  return codes;
}

Status App::DisableTotp(const Principal& p, const std::string& password, const std::string& code,
                        const std::string& request_id) {
  auto user = SessionUser(*impl_, p);
  if (!user.ok()) return user.status();
  auto row = impl_->store->GetSecondFactor(p.user.id);
  if (!row.ok() || row->state != kEnabled) return Status(Code::kFailedPrecondition, "the second factor is not on");
  const int64_t now = clock().NowMicros();
  const bool locked = user->locked_until > now;
  const bool password_ok = crypto::VerifyPassword(user->password_hash, password);
  Status code_ok = (!locked && password_ok) ? UseSecondFactor(*impl_, *row, code, now, p, request_id)
                                            : Status::Unauthenticated();
  if (!code_ok.ok()) {
    if (code_ok.code() != Code::kUnauthenticated) return code_ok;
    // Counts toward the lockout like a failed login.
    if (!locked) TRELLIS_RETURN_IF_ERROR(impl_->RecordFailedLogin(p.user.id, now));
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(p, "second_factor.disable", "fail", p.user.id, "", request_id,
                                              locked ? "locked" : !password_ok ? "bad_password" : "bad_second_factor"));
    return Status::Invalid("the password or the code is not right", "code");
  }
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
    if (user->failed_logins != 0) TRELLIS_RETURN_IF_ERROR(t.UpdateUserLogin(p.user.id, 0, 0));
    return t.DeleteSecondFactor(p.user.id);
  }));
  return impl_->AuditEntry(p, "second_factor.disable", "ok", p.user.id, "", request_id);
}

Status App::ResetTotp(const Principal& by, const std::string& user_id, const std::string& request_id) {
  auto target = impl_->store->GetUserById(user_id);
  const bool operator_ = by.user.id == "cli";
  if (!target.ok() ||
      (!operator_ && !(policy::CanManageUsers(by.user.role) && by.user.agency_id == target->user.agency_id))) {
    TRELLIS_RETURN_IF_ERROR(
        impl_->AuditEntry(by, "second_factor.reset", "deny", target.ok() ? target->user.id : "", "", request_id));
    return Status::NotFound();
  }
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.DeleteSecondFactor(user_id); }));
  return impl_->AuditEntry(by, "second_factor.reset", "ok", user_id, "", request_id);
}

}  // namespace trellis::app
