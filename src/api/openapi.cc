#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "api/routes.h"

namespace trellis::api {

extern const char* const kOpenApiYaml;  // generated from docs/api/openapi.yaml at build time

namespace {

nlohmann::json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = ToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : n) a.push_back(ToJson(e));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted in the YAML: always a string
      if (s == "true") return true;
      if (s == "false") return false;
      if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 10) return std::stoll(s);
      return s;
    }
    default: return nullptr;
  }
}

}  // namespace

const std::string& OpenApiJson() {
  static const std::string doc = ToJson(YAML::Load(kOpenApiYaml)).dump();
  return doc;
}

}  // namespace trellis::api
