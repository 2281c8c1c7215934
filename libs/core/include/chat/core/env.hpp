// Configuration from the environment, validated at start-up.
// Env is an interface so tests pass a map instead of touching the process environment.
// EnvReader collects every problem and reports them together: a bad deployment dies in its
// first second with one sentence that names each offending variable.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/status.hpp"

namespace chat::core {

class Env {
 public:
  virtual ~Env() = default;
  virtual std::optional<std::string> Get(std::string_view name) const = 0;
};

// Reads the real process environment.
class ProcessEnv final : public Env {
 public:
  std::optional<std::string> Get(std::string_view name) const override;
};

// For tests and for layering overrides.
class MapEnv final : public Env {
 public:
  MapEnv() = default;
  MapEnv(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values.begin(), values.end()) {}
  void Set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }
  std::optional<std::string> Get(std::string_view name) const override;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Typed, validating accessors. Each failed read records "NAME <problem>" and returns the
// default so that reading can go on and every problem is reported at once by Finish().
class EnvReader {
 public:
  explicit EnvReader(const Env& env) : env_(env) {}

  std::string String(std::string_view name, std::string_view def);
  std::string RequiredString(std::string_view name);
  int64_t Int(std::string_view name, int64_t def, int64_t min, int64_t max);
  double Double(std::string_view name, double def, double min, double max);
  bool Bool(std::string_view name, bool def);
  std::chrono::milliseconds Millis(std::string_view name, std::chrono::milliseconds def);
  // One of `allowed` (case-insensitive); returns the lowercase spelling.
  std::string Enum(std::string_view name, std::string_view def,
                   const std::vector<std::string_view>& allowed);
  // http:// or https:// URL with a host.
  std::string Url(std::string_view name, std::string_view def);
  uint16_t Port(std::string_view name, uint16_t def);

  // Records a problem found by cross-field validation.
  void AddProblem(std::string problem) { problems_.push_back(std::move(problem)); }
  const std::vector<std::string>& problems() const { return problems_; }

  // OK, or InvalidArgument("config: A is required; B \"x\" is not a URL").
  Status Finish() const;

 private:
  std::optional<std::string> Raw(std::string_view name) const;

  const Env& env_;
  std::vector<std::string> problems_;
};

}  // namespace chat::core
