// Status and Result<T>: expected failures are values, never exceptions.
//
// A Status carries a domain error Code (which knows nothing of HTTP or exit
// codes: those mappings live in api/ and cli/, one place each), a message that
// is safe to show a user (it must never contain identifying data), and
// optionally the name of the input field that caused it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "core/assert.h"

namespace trellis {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // bad input: the caller can fix it
  kNotFound,            // missing, or denied: the two are indistinguishable (S1)
  kAlreadyExists,
  kUnauthenticated,     // no or bad credentials
  kForbidden,           // authenticated, action not allowed, and existence is not secret
  kConflict,            // optimistic concurrency: the record changed since it was read
  kFailedPrecondition,  // the store is not in a state that allows this
  kTooLarge,
  kRateLimited,         // lockout / backoff
  kDataLoss,            // integrity failure: ciphertext, chain or file does not verify
  kUnavailable,
  kInternal,
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string msg, std::string field = {}) {
    return {Code::kInvalidArgument, std::move(msg), std::move(field)};
  }
  static Status NotFound(std::string msg = "not found") { return {Code::kNotFound, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  static Status DataLoss(std::string msg) { return {Code::kDataLoss, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
  static Status Unauthenticated(std::string msg = "authentication required") {
    return {Code::kUnauthenticated, std::move(msg)};
  }
  static Status Forbidden(std::string msg = "forbidden") { return {Code::kForbidden, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    TRELLIS_INVARIANT(!std::get<Status>(v_).ok(), "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    TRELLIS_INVARIANT(ok(), "value() on an error Result");
    return std::get<T>(v_);
  }
  const T& value() const& {
    TRELLIS_INVARIANT(ok(), "value() on an error Result");
    return std::get<T>(v_);
  }
  T&& value() && {
    TRELLIS_INVARIANT(ok(), "value() on an error Result");
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace trellis

// Propagate a non-ok Status from an expression returning Status.
#define TRELLIS_RETURN_IF_ERROR(expr)            \
  do {                                           \
    ::trellis::Status _st = (expr);              \
    if (!_st.ok()) return _st;                   \
  } while (0)

#define TRELLIS_CONCAT_INNER(a, b) a##b
#define TRELLIS_CONCAT(a, b) TRELLIS_CONCAT_INNER(a, b)
// Assign the value of a Result<T> expression to `lhs`, or return its Status.
#define TRELLIS_ASSIGN_OR_RETURN(lhs, expr) \
  TRELLIS_ASSIGN_OR_RETURN_IMPL(TRELLIS_CONCAT(_res_, __LINE__), lhs, expr)
#define TRELLIS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
