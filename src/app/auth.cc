// Users, agencies, login, sessions and API tokens (S8, S9).
#include <algorithm>
#include <array>

#include "app/app.h"
#include "app/impl.h"
#include "app/lockout.h"
#include "core/ids.h"
#include "core/rng.h"
#include "crypto/primitives.h"

namespace trellis::app {
namespace {

constexpr char kBadLogin[] = "invalid username or password";

// The most common passwords of at least 12 characters (public breach corpora); a password
// on this list, or containing the username, is refused.
constexpr std::array<std::string_view, 40> kCommonPasswords = {
    "123456789012", "1234567890123", "12345678901234", "123456789012345", "qwertyuiopas",
    "qwerty123456", "password1234",  "password12345",  "passwordpassword", "iloveyou1234",
    "111111111111", "000000000000",  "aaaaaaaaaaaa",   "abcdefghijkl",     "abc123456789",
    "1q2w3e4r5t6y", "qwertyuiop123", "passw0rd1234",   "welcome12345",     "letmein12345",
    "administrator", "changeme1234", "trustno1trustno1", "football1234",    "baseball1234",
    "princess1234", "sunshine1234",  "superman1234",   "michael12345",     "monkey123456",
    "dragon123456", "master123456",  "qazwsxedcrfv",   "1qaz2wsx3edc",     "zaq12wsxcde3",
    "asdfghjkl123", "zxcvbnm12345",  "p@ssw0rd1234",   "password123!",     "Password1234"};

Status CheckPasswordPolicy(const std::string& username, const std::string& password) {
  if (password.size() < 12) return Status::Invalid("must be at least 12 characters", "password");
  if (password.size() > 128) return Status::Invalid("must be at most 128 characters", "password");
  std::string lower = password;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::string_view common : kCommonPasswords) {
    std::string c(common);
    std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (lower == c) return Status::Invalid("is too common; choose another", "password");
  }
  if (!username.empty() && lower.find(username) != std::string::npos) {
    return Status::Invalid("must not contain the username", "password");
  }
  return Status::Ok();
}

bool ValidUsername(const std::string& u) {
  if (u.size() < 3 || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

}  // namespace

Principal App::PrincipalFor(const domain::User& user) const {
  Principal p;
  p.user = user;
  return p;
}

Result<domain::Agency> App::AddAgency(const Principal& by, const std::string& name, domain::AgencyKind kind) {
  if (by.user.id != "cli") return Status::Forbidden("only an operator may add agencies");
  if (name.empty() || name.size() > 200 || !domain::IsValidUtf8(name)) return Status::Invalid("is required", "name");
  domain::Agency a{NewRandomId(SystemRng(), "a"), name, kind};
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.PutAgency(a, clock().NowMicros()); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(by, "agency.create", "ok", a.id, "", ""));
  return a;
}

Result<std::vector<domain::Agency>> App::ListAgencies(const Principal& by) { return impl_->store->ListAgencies(); }

Result<domain::User> App::AddUser(const Principal& by, const std::string& agency_id, const std::string& username,
                                  const std::string& display_name, domain::Role role, const std::string& password) {
  const bool operator_ = by.user.id == "cli";
  if (!operator_ && !(policy::CanManageUsers(by.user.role) && by.user.agency_id == agency_id)) {
    return Status::Forbidden("you may not add users to this agency");
  }
  if (!ValidUsername(username)) {
    return Status::Invalid("must be 3-64 characters of a-z, 0-9, . _ - @", "username");
  }
  if (display_name.size() > 200 || !domain::IsValidUtf8(display_name)) return Status::Invalid("is too long", "display_name");
  TRELLIS_RETURN_IF_ERROR(CheckPasswordPolicy(username, password));
  auto agency = impl_->store->GetAgency(agency_id);
  if (!agency.ok()) return Status::Invalid("no such agency", "agency");
  auto hash = crypto::HashPassword(password);
  if (!hash.ok()) return hash.status();
  storage::UserRow row;
  row.user = {NewRandomId(SystemRng(), "u"), agency_id, username, display_name.empty() ? username : display_name, role,
              false};
  row.password_hash = *hash;
  row.created_at = clock().NowMicros();
  Status st = impl_->store->Write([&](storage::Txn& t) { return t.InsertUser(row); });
  if (st.code() == Code::kAlreadyExists) return Status(Code::kAlreadyExists, "that username is taken", "username");
  TRELLIS_RETURN_IF_ERROR(st);
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(by, "user.create", "ok", row.user.id, "", "", domain::RoleName(role)));
  return row.user;
}

Result<std::vector<domain::User>> App::ListUsers(const Principal& by) {
  if (!policy::CanManageUsers(by.user.role) && !policy::CanReadAudit(by.user.role)) return Status::Forbidden();
  auto rows = impl_->store->ListUsers(by.user.agency_id);
  if (!rows.ok()) return rows.status();
  std::vector<domain::User> out;
  for (auto& r : *rows) out.push_back(r.user);
  return out;
}

Result<domain::User> App::FindUser(const std::string& username) {
  auto row = impl_->store->GetUserByName(username);
  if (!row.ok()) return row.status();
  return row->user;
}

Status App::DisableUser(const Principal& by, const std::string& user_id) {
  auto target = impl_->store->GetUserById(user_id);
  if (!target.ok()) return Status::NotFound();
  const bool operator_ = by.user.id == "cli";
  if (!operator_ && !(policy::CanManageUsers(by.user.role) && by.user.agency_id == target->user.agency_id)) {
    return Status::NotFound();
  }
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
    TRELLIS_RETURN_IF_ERROR(t.SetUserDisabled(user_id, true));
    return t.DeleteUserSessions(user_id);  // S9: disabling kills sessions server-side
  }));
  return impl_->AuditEntry(by, "user.disable", "ok", user_id, "", "");
}

// Increment and raise in one transaction, so no other failure comes between the count and the
// lock computed from it: SQLite's write transaction is exclusive (BEGIN IMMEDIATE: one writer per
// store, across processes); on PostgreSQL, Write() runs the whole callback in one pqxx::work and
// commits once (pg_store.cc), and the increment's UPDATE ... RETURNING keeps the row locked until
// that commit, so a concurrent failure on any server waits, then counts on from this one.
// RaiseLockedUntil never lowers the lock (a server whose clock lags cannot shorten it).
// A failure that cannot be counted is an error of the call (not a silent "wrong password"):
// the lockout must not depend on the store answering. A user deleted meanwhile has nothing left
// to lock.
Status App::Impl::RecordFailedLogin(const std::string& user_id, int64_t now) {
  Status st = store->Write([&](storage::Txn& t) -> Status {
    TRELLIS_ASSIGN_OR_RETURN(const int64_t failures, t.IncrementFailedLogins(user_id));
    const int64_t until = LockedUntil(failures, limits.max_failures_before_lockout, now);
    return until == 0 ? Status::Ok() : t.RaiseLockedUntil(user_id, until);
  });
  return st.code() == Code::kNotFound ? Status::Ok() : st;
}

Result<LoginResult> App::Login(const std::string& username, const std::string& password, const std::string& request_id,
                               const std::string& second_factor) {
  const int64_t now = clock().NowMicros();
  auto row = impl_->store->GetUserByName(username);
  Principal who;
  who.user.id = row.ok() ? row->user.id : "unknown";
  // Always verify a hash, so an unknown user costs the same as a wrong password (S8).
  const bool password_ok =
      crypto::VerifyPassword(row.ok() ? row->password_hash : crypto::DummyPasswordHash(), password);
  const bool locked = row.ok() && row->locked_until > now;
  // A wrong second factor fails exactly like a wrong password (and counts toward the lockout).
  bool second_factor_ok = true;
  if (row.ok() && !row->user.disabled && !locked && password_ok) {
    auto sf = impl_->store->GetSecondFactor(row->user.id);
    if (!sf.ok() && sf.status().code() != Code::kNotFound) return sf.status();
    if (sf.ok() && sf->state == "enabled") {
      if (second_factor.empty()) {
        TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(who, "login", "fail", "", "", request_id, "second_factor_required"));
        return Status(Code::kUnauthenticated, "enter the code from your authenticator app", "second_factor");
      }
      Status used = UseSecondFactor(*impl_, *sf, second_factor, now, who, request_id);
      if (!used.ok() && used.code() != Code::kUnauthenticated) return used;
      second_factor_ok = used.ok();
    }
  }
  if (!row.ok() || row->user.disabled || locked || !password_ok || !second_factor_ok) {
    if (row.ok() && !locked && (!password_ok || !second_factor_ok)) {
      TRELLIS_RETURN_IF_ERROR(impl_->RecordFailedLogin(row->user.id, now));
    }
    TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(who, "login", "fail", "", "", request_id,
                                              !row.ok() ? "unknown_user" : locked ? "locked" : row->user.disabled ? "disabled"
                                              : !password_ok ? "bad_password" : "bad_second_factor"));
    return Status::Unauthenticated(kBadLogin);
  }
  LoginResult out;
  out.session_token = crypto::NewTokenText();
  out.csrf_token = crypto::NewTokenText();
  storage::SessionRow s{crypto::Sha256(out.session_token), row->user.id, crypto::Sha256(out.csrf_token), now, now,
                        now + impl_->limits.absolute_seconds * 1'000'000};
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) {
    if (row->failed_logins != 0) TRELLIS_RETURN_IF_ERROR(t.UpdateUserLogin(row->user.id, 0, 0));
    return t.InsertSession(s);
  }));
  out.principal = PrincipalFor(row->user);
  out.principal.session_hash = s.token_hash;
  out.principal.csrf_hash = s.csrf_hash;
  out.principal.via_cookie = true;
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(out.principal, "login", "ok", "", "", request_id));
  return out;
}

Result<Principal> App::AuthenticateSession(const std::string& token) {
  if (token.empty() || token.size() > 100) return Status::Unauthenticated();
  const std::string hash = crypto::Sha256(token);
  // Session and user in one read, every request (no cache): logout, disabling and expiry apply
  // on the next request, also when another app server made the change.
  auto found = impl_->store->GetSessionWithUser(hash);
  if (!found.ok()) return Status::Unauthenticated();
  const storage::SessionRow* s = &found->first;
  const storage::UserRow* user = &found->second;
  const int64_t now = clock().NowMicros();
  if (now >= s->expires_at || now - s->last_seen_at >= impl_->limits.idle_seconds * 1'000'000) {
    (void)impl_->store->Write([&](storage::Txn& t) { return t.DeleteSession(hash); });
    return Status::Unauthenticated("the session has ended; log in again");
  }
  if (user->user.disabled) return Status::Unauthenticated();
  // Record activity at most once a minute: enough for the idle timeout, cheap for the store.
  if (now - s->last_seen_at > 60'000'000) {
    (void)impl_->store->Write([&](storage::Txn& t) { return t.TouchSession(hash, now); });
  }
  Principal p = PrincipalFor(user->user);
  p.session_hash = hash;
  p.csrf_hash = s->csrf_hash;
  p.via_cookie = true;
  return p;
}

Result<Principal> App::AuthenticateBearer(const std::string& token) {
  if (token.empty() || token.size() > 100) return Status::Unauthenticated();
  // Token and user in one read, every request: revocation and disabling apply on the next
  // request, also when another app server made the change. (The SQLite store may answer from a
  // reader's copy of the two rows, which it drops at any commit to the store file.)
  auto found = impl_->store->GetTokenWithUser(crypto::Sha256(token));
  if (!found.ok()) return Status::Unauthenticated();
  const auto& [t, user] = *found;
  if (t.revoked_at != 0) return Status::Unauthenticated();
  if (t.expires_at != 0 && clock().NowMicros() >= t.expires_at) return Status::Unauthenticated();
  if (user.user.disabled) return Status::Unauthenticated();
  return PrincipalFor(user.user);
}

bool App::CheckCsrf(const Principal& p, const std::string& csrf_token) const {
  if (!p.via_cookie) return true;  // bearer tokens are not sent ambiently by browsers
  return !csrf_token.empty() && crypto::ConstantTimeEquals(crypto::Sha256(csrf_token), p.csrf_hash);
}

Status App::Logout(const Principal& p, const std::string& request_id) {
  if (!p.session_hash.empty()) {
    TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& t) { return t.DeleteSession(p.session_hash); }));
  }
  return impl_->AuditEntry(p, "logout", "ok", "", "", request_id);
}

Result<std::string> App::CreateToken(const Principal& by, const std::string& username, const std::string& name,
                                     int64_t ttl_seconds) {
  auto row = impl_->store->GetUserByName(username);
  if (!row.ok()) return Status::Invalid("no such user", "user");
  if (by.user.id != "cli" && by.user.id != row->user.id) return Status::Forbidden("you may create tokens only for yourself");
  if (name.empty() || name.size() > 100 || !domain::IsValidUtf8(name)) return Status::Invalid("is required", "name");
  const std::string secret = "trl_" + crypto::NewTokenText();
  const int64_t now = clock().NowMicros();
  storage::TokenRow t{NewRandomId(SystemRng(), "t"), crypto::Sha256(secret), row->user.id, name, now,
                      ttl_seconds > 0 ? now + ttl_seconds * 1'000'000 : 0, 0};
  TRELLIS_RETURN_IF_ERROR(impl_->store->Write([&](storage::Txn& tx) { return tx.InsertToken(t); }));
  TRELLIS_RETURN_IF_ERROR(impl_->AuditEntry(by, "token.create", "ok", t.id, "", "", row->user.id));
  return secret;
}

}  // namespace trellis::app
