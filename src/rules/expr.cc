#include "rules/expr.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "rules/calendar.h"

namespace trellis::rules {
namespace {

constexpr int kMaxDepth = 64;

enum class Tok { kEnd, kName, kInt, kDate, kStr, kLParen, kRParen, kLBrace, kRBrace, kComma, kOp };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  Result<Token> Next() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    if (i_ >= s_.size()) return Token{Tok::kEnd, ""};
    char c = s_[i_];
    auto single = [&](Tok k) { ++i_; return Token{k, std::string(1, c)}; };
    if (c == '(') return single(Tok::kLParen);
    if (c == ')') return single(Tok::kRParen);
    if (c == '{') return single(Tok::kLBrace);
    if (c == '}') return single(Tok::kRBrace);
    if (c == ',') return single(Tok::kComma);
    if (c == '+' || c == '-') return single(Tok::kOp);
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      if (i_ + 1 < s_.size() && s_[i_ + 1] == '=') {
        i_ += 2;
        return Token{Tok::kOp, std::string{c, '='}};
      }
      if (c == '<' || c == '>') return single(Tok::kOp);
      return Status::Invalid(std::string("unexpected '") + c + "'");
    }
    if (c == '\'' || c == '"') {
      size_t j = s_.find(c, i_ + 1);
      if (j == std::string_view::npos) return Status::Invalid("unterminated string");
      Token t{Tok::kStr, std::string(s_.substr(i_ + 1, j - i_ - 1))};
      i_ = j + 1;
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i_;
      while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '-')) ++j;
      Token t{Tok::kInt, std::string(s_.substr(i_, j - i_))};
      i_ = j;
      if (t.text.find('-') != std::string::npos) t.kind = Tok::kDate;
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i_;
      while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_' ||
                               s_[j] == '.'))
        ++j;
      Token t{Tok::kName, std::string(s_.substr(i_, j - i_))};
      i_ = j;
      return t;
    }
    return Status::Invalid(std::string("unexpected character '") + c + "'");
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// A parsed operand before it is placed: either a typed node or a bare symbol (an enum value
// whose domain the context decides).
struct Operand {
  uint32_t node = 0;
  Type type = Type::kBool;
  int domain = -1;        // for enums: the slot whose allowed values apply
  std::string symbol;     // non-empty: an unresolved bare name / string literal
  bool is_symbol() const { return !symbol.empty(); }
};

class Compiler {
 public:
  Compiler(std::string_view text, const Vocabulary& vocab, Program& prog)
      : lex_(text), vocab_(vocab), prog_(prog) {}

  Result<Compiled> Run() {
    TRELLIS_RETURN_IF_ERROR(Advance());
    TRELLIS_ASSIGN_OR_RETURN(Operand o, ParseOr(0));
    if (tok_.kind != Tok::kEnd) return Status::Invalid("unexpected '" + tok_.text + "'");
    TRELLIS_RETURN_IF_ERROR(Resolve(o, "expression"));
    std::sort(slots_.begin(), slots_.end());
    slots_.erase(std::unique(slots_.begin(), slots_.end()), slots_.end());
    return Compiled{o.node, o.type, std::move(slots_)};
  }

 private:
  Status Advance() {
    auto t = lex_.Next();
    if (!t.ok()) return t.status();
    tok_ = std::move(t).value();
    return Status::Ok();
  }
  bool IsName(const char* kw) const { return tok_.kind == Tok::kName && tok_.text == kw; }

  uint32_t Emit(Node n, const std::vector<uint32_t>& kids) {
    n.nkids = static_cast<uint8_t>(kids.size());
    n.kids = static_cast<uint32_t>(prog_.kids.size());
    prog_.kids.insert(prog_.kids.end(), kids.begin(), kids.end());
    prog_.nodes.push_back(n);
    return static_cast<uint32_t>(prog_.nodes.size() - 1);
  }
  Operand Make(Op op, Type t, const std::vector<uint32_t>& kids, int domain = -1) {
    Node n;
    n.op = op;
    return Operand{Emit(n, kids), t, domain, {}};
  }

  // A symbol in a place that needs a typed value is an unknown fact.
  Status Resolve(Operand& o, const char* where) {
    if (!o.is_symbol()) return Status::Ok();
    return Status::Invalid("unknown fact '" + o.symbol + "'");
  }
  Status Expect(Operand& o, Type t, const char* what) {
    TRELLIS_RETURN_IF_ERROR(Resolve(o, what));
    if (o.type != t)
      return Status::Invalid(std::string("type error: ") + what + " needs " + TypeName(t) +
                             ", got " + TypeName(o.type));
    return Status::Ok();
  }

  Result<Operand> ParseOr(int depth) {
    if (depth > kMaxDepth) return Status::Invalid("expression nested too deeply");
    TRELLIS_ASSIGN_OR_RETURN(Operand a, ParseAnd(depth));
    if (!IsName("or")) return a;
    TRELLIS_RETURN_IF_ERROR(Expect(a, Type::kBool, "'or'"));
    std::vector<uint32_t> kids{a.node};
    while (IsName("or")) {
      TRELLIS_RETURN_IF_ERROR(Advance());
      TRELLIS_ASSIGN_OR_RETURN(Operand b, ParseAnd(depth));
      TRELLIS_RETURN_IF_ERROR(Expect(b, Type::kBool, "'or'"));
      kids.push_back(b.node);
      if (kids.size() > 250) return Status::Invalid("too many operands");
    }
    return Make(Op::kOr, Type::kBool, kids);
  }
  Result<Operand> ParseAnd(int depth) {
    TRELLIS_ASSIGN_OR_RETURN(Operand a, ParseNot(depth));
    if (!IsName("and")) return a;
    TRELLIS_RETURN_IF_ERROR(Expect(a, Type::kBool, "'and'"));
    std::vector<uint32_t> kids{a.node};
    while (IsName("and")) {
      TRELLIS_RETURN_IF_ERROR(Advance());
      TRELLIS_ASSIGN_OR_RETURN(Operand b, ParseNot(depth));
      TRELLIS_RETURN_IF_ERROR(Expect(b, Type::kBool, "'and'"));
      kids.push_back(b.node);
      if (kids.size() > 250) return Status::Invalid("too many operands");
    }
    return Make(Op::kAnd, Type::kBool, kids);
  }
  Result<Operand> ParseNot(int depth) {
    if (depth > kMaxDepth) return Status::Invalid("expression nested too deeply");
    if (IsName("not")) {
      TRELLIS_RETURN_IF_ERROR(Advance());
      TRELLIS_ASSIGN_OR_RETURN(Operand a, ParseNot(depth + 1));
      TRELLIS_RETURN_IF_ERROR(Expect(a, Type::kBool, "'not'"));
      return Make(Op::kNot, Type::kBool, {a.node});
    }
    return ParseCmp(depth);
  }

  // Places a symbol into the enum domain of `other`.
  Status Bind(Operand& sym, const Operand& other) {
    if (!sym.is_symbol()) return Status::Ok();
    if (other.is_symbol()) return Status::Invalid("unknown fact '" + other.symbol + "'");
    if (other.type != Type::kEnum) {
      if (sym.symbol == "true" || sym.symbol == "false") return Status::Ok();
      return Status::Invalid("unknown fact '" + sym.symbol + "' (or type error: compared with a " +
                             TypeName(other.type) + ")");
    }
    const SlotDef& d = vocab_.slot(other.domain);
    int idx = d.EnumIndex(sym.symbol);
    if (idx < 0)
      return Status::Invalid("type error: '" + sym.symbol + "' is not an allowed value of '" +
                             d.name + "'");
    Node n;
    n.op = Op::kConst;
    n.constant = Value::Of(idx);
    sym = Operand{Emit(n, {}), Type::kEnum, other.domain, {}};
    return Status::Ok();
  }

  Result<Operand> ParseCmp(int depth) {
    TRELLIS_ASSIGN_OR_RETURN(Operand a, ParseSum(depth));
    bool negated_in = false;
    if (IsName("not")) {
      // "x not in {...}"
      TRELLIS_RETURN_IF_ERROR(Advance());
      if (!IsName("in")) return Status::Invalid("expected 'in' after 'not'");
      negated_in = true;
    }
    if (IsName("in")) {
      TRELLIS_RETURN_IF_ERROR(Advance());
      TRELLIS_RETURN_IF_ERROR(Resolve(a, "'in'"));
      if (a.type != Type::kEnum)
        return Status::Invalid(std::string("type error: 'in' needs an enum fact, got ") +
                               TypeName(a.type));
      if (tok_.kind != Tok::kLBrace) return Status::Invalid("expected '{' after 'in'");
      TRELLIS_RETURN_IF_ERROR(Advance());
      uint64_t mask = 0;
      const SlotDef& d = vocab_.slot(a.domain);
      while (tok_.kind != Tok::kRBrace) {
        if (tok_.kind != Tok::kName && tok_.kind != Tok::kStr)
          return Status::Invalid("expected an enum value in { }");
        int idx = d.EnumIndex(tok_.text);
        if (idx < 0)
          return Status::Invalid("type error: '" + tok_.text + "' is not an allowed value of '" +
                                 d.name + "'");
        mask |= uint64_t{1} << idx;
        TRELLIS_RETURN_IF_ERROR(Advance());
        if (tok_.kind == Tok::kComma) TRELLIS_RETURN_IF_ERROR(Advance());
        else if (tok_.kind != Tok::kRBrace) return Status::Invalid("expected ',' or '}'");
      }
      TRELLIS_RETURN_IF_ERROR(Advance());
      Node n;
      n.op = Op::kIn;
      n.constant = Value::Of(static_cast<int64_t>(mask));
      Operand r{Emit(n, {a.node}), Type::kBool, -1, {}};
      if (negated_in) return Make(Op::kNot, Type::kBool, {r.node});
      return r;
    }
    if (tok_.kind != Tok::kOp || tok_.text == "+" || tok_.text == "-") return a;
    std::string op = tok_.text;
    TRELLIS_RETURN_IF_ERROR(Advance());
    TRELLIS_ASSIGN_OR_RETURN(Operand b, ParseSum(depth));
    TRELLIS_RETURN_IF_ERROR(Bind(a, b));
    TRELLIS_RETURN_IF_ERROR(Bind(b, a));
    // true/false symbols against a bool
    for (Operand* o : {&a, &b}) {
      if (o->is_symbol()) {
        Node n;
        n.op = Op::kConst;
        n.constant = Value::Bool(o->symbol == "true");
        *o = Operand{Emit(n, {}), Type::kBool, -1, {}};
      }
    }
    if (a.type != b.type)
      return Status::Invalid(std::string("type error: cannot compare ") + TypeName(a.type) +
                             " with " + TypeName(b.type));
    if (a.type == Type::kEnum && vocab_.slot(a.domain).allowed != vocab_.slot(b.domain).allowed)
      return Status::Invalid("type error: cannot compare enums '" + vocab_.slot(a.domain).name +
                             "' and '" + vocab_.slot(b.domain).name + "'");
    Op o;
    if (op == "==") o = Op::kEq;
    else if (op == "!=") o = Op::kNe;
    else {
      if (a.type != Type::kInt && a.type != Type::kDate)
        return Status::Invalid(std::string("type error: '") + op + "' needs int or date, got " +
                               TypeName(a.type));
      o = op == "<" ? Op::kLt : op == "<=" ? Op::kLe : op == ">" ? Op::kGt : Op::kGe;
    }
    if (a.type == Type::kEnumList || a.type == Type::kObjectList)
      return Status::Invalid(std::string("type error: cannot compare ") + TypeName(a.type));
    return Make(o, Type::kBool, {a.node, b.node});
  }

  Result<Operand> ParseSum(int depth) {
    TRELLIS_ASSIGN_OR_RETURN(Operand a, ParseAtom(depth));
    while (tok_.kind == Tok::kOp && (tok_.text == "+" || tok_.text == "-")) {
      Op o = tok_.text == "+" ? Op::kAdd : Op::kSub;
      TRELLIS_RETURN_IF_ERROR(Advance());
      TRELLIS_ASSIGN_OR_RETURN(Operand b, ParseAtom(depth));
      TRELLIS_RETURN_IF_ERROR(Expect(a, Type::kInt, "'+'/'-'"));
      TRELLIS_RETURN_IF_ERROR(Expect(b, Type::kInt, "'+'/'-'"));
      a = Make(o, Type::kInt, {a.node, b.node});
    }
    return a;
  }

  struct FuncSig {
    const char* name;
    Op op;
    std::vector<Type> args;  // empty + variadic for coalesce/if handled specially
    Type result;
  };

  Result<Operand> ParseCall(const std::string& name, int depth) {
    TRELLIS_RETURN_IF_ERROR(Advance());  // '('
    std::vector<Operand> args;
    std::vector<std::string> raw;  // for contains(list, value)
    while (tok_.kind != Tok::kRParen) {
      if (name == "contains" && args.size() == 1) {
        if (tok_.kind != Tok::kName && tok_.kind != Tok::kStr)
          return Status::Invalid("contains() needs an enum value");
        raw.push_back(tok_.text);
        TRELLIS_RETURN_IF_ERROR(Advance());
        args.push_back(Operand{});
      } else {
        TRELLIS_ASSIGN_OR_RETURN(Operand a, ParseOr(depth + 1));
        args.push_back(std::move(a));
      }
      if (tok_.kind == Tok::kComma) TRELLIS_RETURN_IF_ERROR(Advance());
      else if (tok_.kind != Tok::kRParen) return Status::Invalid("expected ',' or ')'");
      if (args.size() > 16) return Status::Invalid("too many arguments");
    }
    TRELLIS_RETURN_IF_ERROR(Advance());
    auto arity = [&](size_t n) -> Status {
      if (args.size() != n)
        return Status::Invalid(name + "() takes " + std::to_string(n) + " argument(s)");
      return Status::Ok();
    };
    std::vector<uint32_t> kids;
    auto typed = [&](std::initializer_list<Type> ts, Op op, Type result) -> Result<Operand> {
      TRELLIS_RETURN_IF_ERROR(arity(ts.size()));
      size_t i = 0;
      for (Type t : ts) {
        TRELLIS_RETURN_IF_ERROR(Expect(args[i], t, (name + "()").c_str()));
        kids.push_back(args[i].node);
        ++i;
      }
      return Make(op, result, kids);
    };
    if (name == "known" || name == "is_true" || name == "is_false") {
      TRELLIS_RETURN_IF_ERROR(arity(1));
      TRELLIS_RETURN_IF_ERROR(Resolve(args[0], name.c_str()));
      if (name != "known" && args[0].type != Type::kBool)
        return Status::Invalid("type error: " + name + "() needs bool");
      Op op = name == "known" ? Op::kKnown : name == "is_true" ? Op::kIsTrue : Op::kIsFalse;
      return Make(op, Type::kBool, {args[0].node});
    }
    if (name == "coalesce" || name == "min" || name == "max") {
      if (args.size() < 2) return Status::Invalid(name + "() takes at least 2 arguments");
      for (auto& a : args) TRELLIS_RETURN_IF_ERROR(Resolve(a, name.c_str()));
      for (auto& a : args) {
        if (a.type != args[0].type || (a.type == Type::kEnum && a.domain != args[0].domain))
          return Status::Invalid("type error: " + name + "() arguments differ in type");
        kids.push_back(a.node);
      }
      if (name != "coalesce" && args[0].type != Type::kInt && args[0].type != Type::kDate)
        return Status::Invalid("type error: " + name + "() needs int or date");
      Op op = name == "coalesce" ? Op::kCoalesce : name == "min" ? Op::kMin : Op::kMax;
      return Make(op, args[0].type, kids, args[0].domain);
    }
    if (name == "if") {
      TRELLIS_RETURN_IF_ERROR(arity(3));
      TRELLIS_RETURN_IF_ERROR(Expect(args[0], Type::kBool, "if()"));
      TRELLIS_RETURN_IF_ERROR(Resolve(args[1], "if()"));
      TRELLIS_RETURN_IF_ERROR(Resolve(args[2], "if()"));
      if (args[1].type != args[2].type)
        return Status::Invalid("type error: if() branches differ in type");
      return Make(Op::kIf, args[1].type, {args[0].node, args[1].node, args[2].node},
                  args[1].domain);
    }
    if (name == "nonempty") {
      TRELLIS_RETURN_IF_ERROR(arity(1));
      TRELLIS_RETURN_IF_ERROR(Resolve(args[0], "nonempty()"));
      if (args[0].type != Type::kEnumList && args[0].type != Type::kObjectList)
        return Status::Invalid("type error: nonempty() needs a list");
      return Make(Op::kNonEmpty, Type::kBool, {args[0].node});
    }
    if (name == "contains") {
      TRELLIS_RETURN_IF_ERROR(arity(2));
      TRELLIS_RETURN_IF_ERROR(Resolve(args[0], "contains()"));
      if (args[0].type != Type::kEnumList)
        return Status::Invalid("type error: contains() needs an enum_list");
      int idx = vocab_.slot(args[0].domain).EnumIndex(raw[0]);
      if (idx < 0)
        return Status::Invalid("type error: '" + raw[0] + "' is not an allowed value of '" +
                               vocab_.slot(args[0].domain).name + "'");
      Node n;
      n.op = Op::kContains;
      n.constant = Value::Of(static_cast<int64_t>(uint64_t{1} << idx));
      return Operand{Emit(n, {args[0].node}), Type::kBool, -1, {}};
    }
    if (name == "age_on") return typed({Type::kDate, Type::kDate}, Op::kAgeOn, Type::kInt);
    if (name == "birthday") return typed({Type::kDate, Type::kInt}, Op::kBirthday, Type::kDate);
    if (name == "add_years") return typed({Type::kDate, Type::kInt}, Op::kAddYears, Type::kDate);
    if (name == "add_months") return typed({Type::kDate, Type::kInt}, Op::kAddMonths, Type::kDate);
    if (name == "add_days") return typed({Type::kDate, Type::kInt}, Op::kAddDays, Type::kDate);
    if (name == "days_between")
      return typed({Type::kDate, Type::kDate}, Op::kDaysBetween, Type::kInt);
    if (name == "next_business_day")
      return typed({Type::kDate}, Op::kNextBusinessDay, Type::kDate);
    return Status::Invalid("unknown function '" + name + "'");
  }

  Result<Operand> ParseAtom(int depth) {
    if (depth > kMaxDepth) return Status::Invalid("expression nested too deeply");
    Token t = tok_;
    switch (t.kind) {
      case Tok::kLParen: {
        TRELLIS_RETURN_IF_ERROR(Advance());
        TRELLIS_ASSIGN_OR_RETURN(Operand a, ParseOr(depth + 1));
        if (tok_.kind != Tok::kRParen) return Status::Invalid("expected ')'");
        TRELLIS_RETURN_IF_ERROR(Advance());
        return a;
      }
      case Tok::kInt: {
        TRELLIS_RETURN_IF_ERROR(Advance());
        if (t.text.size() > 9) return Status::Invalid("number too large");
        Node n;
        n.constant = Value::Of(std::stoll(t.text));
        return Operand{Emit(n, {}), Type::kInt, -1, {}};
      }
      case Tok::kDate: {
        TRELLIS_RETURN_IF_ERROR(Advance());
        auto d = ParseDate(t.text);
        if (!d) return Status::Invalid("invalid date '" + t.text + "'");
        Node n;
        n.constant = Value::Of(*d);
        return Operand{Emit(n, {}), Type::kDate, -1, {}};
      }
      case Tok::kOp: {
        if (t.text != "-") return Status::Invalid("unexpected '" + t.text + "'");
        TRELLIS_RETURN_IF_ERROR(Advance());  // unary minus on an integer literal
        if (tok_.kind != Tok::kInt || tok_.text.size() > 9)
          return Status::Invalid("expected a number after '-'");
        Node n;
        n.constant = Value::Of(-std::stoll(tok_.text));
        TRELLIS_RETURN_IF_ERROR(Advance());
        return Operand{Emit(n, {}), Type::kInt, -1, {}};
      }
      case Tok::kStr:
        TRELLIS_RETURN_IF_ERROR(Advance());
        if (t.text.empty()) return Status::Invalid("empty string literal");
        return Operand{0, Type::kEnum, -1, t.text};
      case Tok::kName: {
        TRELLIS_RETURN_IF_ERROR(Advance());
        if (tok_.kind == Tok::kLParen) return ParseCall(t.text, depth + 1);
        if (t.text == "true" || t.text == "false" || t.text == "unknown") {
          Node n;
          n.constant = t.text == "unknown" ? Value::Unknown() : Value::Bool(t.text == "true");
          return Operand{Emit(n, {}), Type::kBool, -1, {}};
        }
        if (t.text == "and" || t.text == "or" || t.text == "not" || t.text == "in")
          return Status::Invalid("unexpected '" + t.text + "'");
        int slot = vocab_.Find(t.text);
        if (slot < 0) return Operand{0, Type::kEnum, -1, t.text};
        slots_.push_back(slot);
        Node n;
        n.op = Op::kFact;
        n.slot = slot;
        return Operand{Emit(n, {}), vocab_.slot(slot).type, slot, {}};
      }
      default:
        return Status::Invalid(t.kind == Tok::kEnd ? "unexpected end of expression"
                                                   : "unexpected '" + t.text + "'");
    }
  }

  Lexer lex_;
  const Vocabulary& vocab_;
  Program& prog_;
  Token tok_;
  std::vector<int> slots_;
};

// ---- evaluation ----

template <bool kExplain>
struct Evaluator {
  const Program& p;
  const Value* s;
  const SlotSet* inputs;

  Value Run(uint32_t i, SlotSet* out) const {
    const Node& n = p.nodes[i];
    const uint32_t* k = p.kids.data() + n.kids;
    switch (n.op) {
      case Op::kConst: return n.constant;
      case Op::kFact:
        if constexpr (kExplain) {
          out->Set(n.slot);
          if (inputs) out->Add(inputs[n.slot]);
        }
        return s[n.slot];
      case Op::kNot: {
        Value a = Run(k[0], out);
        return a.known ? Value::Bool(!a.v) : a;
      }
      case Op::kAnd:
      case Op::kOr: {
        const bool is_and = n.op == Op::kAnd;
        bool any_unknown = false;
        if constexpr (!kExplain) {
          for (int j = 0; j < n.nkids; ++j) {
            Value a = Run(k[j], nullptr);
            if (!a.known) any_unknown = true;
            else if ((a.v != 0) != is_and) return a;  // false for and, true for or
          }
          return any_unknown ? Value::Unknown() : Value::Bool(is_and);
        } else {
          SlotSet all, unknown_set;
          for (int j = 0; j < n.nkids; ++j) {
            SlotSet one;
            Value a = Run(k[j], &one);
            if (!a.known) {
              any_unknown = true;
              unknown_set.Add(one);
            } else if ((a.v != 0) != is_and) {
              out->Add(one);
              return a;
            }
            all.Add(one);
          }
          out->Add(any_unknown ? unknown_set : all);
          return any_unknown ? Value::Unknown() : Value::Bool(is_and);
        }
      }
      case Op::kIf: {
        Value c = Run(k[0], out);
        if (!c.known) {
          Run(k[1], out);
          Run(k[2], out);
          return Value::Unknown();
        }
        return Run(c.v ? k[1] : k[2], out);
      }
      case Op::kCoalesce: {
        for (int j = 0; j < n.nkids; ++j) {
          Value a = Run(k[j], out);
          if (a.known) return a;
        }
        return Value::Unknown();
      }
      case Op::kKnown: return Value::Bool(Run(k[0], out).known);
      case Op::kIsTrue: {
        Value a = Run(k[0], out);
        return Value::Bool(a.known && a.v);
      }
      case Op::kIsFalse: {
        Value a = Run(k[0], out);
        return Value::Bool(a.known && !a.v);
      }
      case Op::kIn: {
        Value a = Run(k[0], out);
        if (!a.known) return a;
        return Value::Bool((static_cast<uint64_t>(n.constant.v) >> a.v) & 1);
      }
      case Op::kContains: {
        Value a = Run(k[0], out);
        if (!a.known) return a;
        return Value::Bool(static_cast<uint64_t>(a.v) & static_cast<uint64_t>(n.constant.v));
      }
      case Op::kNonEmpty: {
        Value a = Run(k[0], out);
        if (!a.known) return a;
        return Value::Bool(a.v != 0);
      }
      case Op::kNextBusinessDay: {
        Value a = Run(k[0], out);
        if (!a.known) return a;
        return Value::Of(NextBusinessDay(static_cast<Date>(a.v)));
      }
      default: break;
    }
    // Binary operators: unknown if either side is unknown.
    Value a = Run(k[0], out);
    Value b = Run(k[1], out);
    for (int j = 2; j < n.nkids; ++j) {  // min/max with more operands
      Value c = Run(k[j], out);
      if (!c.known) b = c;
      else if (b.known) b.v = n.op == Op::kMin ? std::min(b.v, c.v) : std::max(b.v, c.v);
    }
    if (!a.known || !b.known) return Value::Unknown();
    // Calendar functions take bounded operands so a fuzzed rule cannot overflow the calendar.
    auto bounded = [](int64_t x) { return x > -400000 && x < 400000; };
    switch (n.op) {
      case Op::kEq: return Value::Bool(a.v == b.v);
      case Op::kNe: return Value::Bool(a.v != b.v);
      case Op::kLt: return Value::Bool(a.v < b.v);
      case Op::kLe: return Value::Bool(a.v <= b.v);
      case Op::kGt: return Value::Bool(a.v > b.v);
      case Op::kGe: return Value::Bool(a.v >= b.v);
      case Op::kAdd: return bounded(a.v) && bounded(b.v) ? Value::Of(a.v + b.v) : Value::Unknown();
      case Op::kSub: return bounded(a.v) && bounded(b.v) ? Value::Of(a.v - b.v) : Value::Unknown();
      case Op::kMin: return Value::Of(std::min(a.v, b.v));
      case Op::kMax: return Value::Of(std::max(a.v, b.v));
      case Op::kAgeOn:
        return Value::Of(AgeOn(static_cast<Date>(a.v), static_cast<Date>(b.v)));
      case Op::kDaysBetween: return Value::Of(b.v - a.v);
      case Op::kBirthday:
        if (!bounded(a.v) || b.v < -1000 || b.v > 1000) return Value::Unknown();
        return Value::Of(Birthday(static_cast<Date>(a.v), static_cast<int>(b.v)));
      case Op::kAddYears:
        if (!bounded(a.v) || b.v < -1000 || b.v > 1000) return Value::Unknown();
        return Value::Of(AddYears(static_cast<Date>(a.v), static_cast<int>(b.v)));
      case Op::kAddMonths:
        if (!bounded(a.v) || b.v < -12000 || b.v > 12000) return Value::Unknown();
        return Value::Of(AddMonths(static_cast<Date>(a.v), static_cast<int>(b.v)));
      case Op::kAddDays:
        if (!bounded(a.v) || !bounded(b.v)) return Value::Unknown();
        return Value::Of(a.v + b.v);
      default: return Value::Unknown();
    }
  }
};

}  // namespace

Result<Compiled> CompileExpr(std::string_view text, const Vocabulary& vocab, Program& prog) {
  size_t nodes = prog.nodes.size(), kids = prog.kids.size();
  auto r = Compiler(text, vocab, prog).Run();
  if (!r.ok()) {  // leave the program as it was
    prog.nodes.resize(nodes);
    prog.kids.resize(kids);
  }
  return r;
}

Value Eval(const Program& prog, ExprId root, const Value* slots) {
  return Evaluator<false>{prog, slots, nullptr}.Run(root, nullptr);
}

Value EvalExplain(const Program& prog, ExprId root, const Value* slots, const SlotSet* slot_inputs,
                  SlotSet* decided) {
  return Evaluator<true>{prog, slots, slot_inputs}.Run(root, decided);
}

}  // namespace trellis::rules
