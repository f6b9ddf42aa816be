#include "conformance/backends.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>

#ifdef TRELLIS_HAVE_POSTGRES
#include <pqxx/pqxx>
#endif

namespace trellis::testing {

namespace fs = std::filesystem;

std::vector<std::string> StoreBackends() { return {"Sqlite", "Postgres"}; }

std::string PgUrl() {
  const char* url = std::getenv("TRELLIS_PG_URL");
  return url ? url : "";
}

ScratchStore::ScratchStore(const std::string& backend, const std::string& tag) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  const std::string unique = std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
  dir = (fs::temp_directory_path() / ("trellis_conf_" + unique)).string();
  fs::create_directories(dir);
  if (backend == "Sqlite") {
    location = "sqlite:" + dir + "/trellis.db";
    return;
  }
#ifdef TRELLIS_HAVE_POSTGRES
  const std::string url = PgUrl();
  if (url.empty()) return;
  std::string clean;
  for (char c : tag) clean += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  schema_ = "t_" + unique + "_" + clean.substr(0, 30);
  pqxx::connection c(url);
  pqxx::work w(c);
  w.exec("CREATE SCHEMA " + w.quote_name(schema_));
  w.commit();
  location = url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
#endif
}

ScratchStore::~ScratchStore() {
#ifdef TRELLIS_HAVE_POSTGRES
  if (!schema_.empty()) {
    try {
      pqxx::connection c(PgUrl());
      pqxx::work w(c);
      w.exec("DROP SCHEMA " + w.quote_name(schema_) + " CASCADE");
      w.commit();
    } catch (const std::exception&) {
      // best effort: the test server is thrown away anyway
    }
  }
#endif
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace trellis::testing
