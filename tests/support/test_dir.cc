#include "support/test_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace trellis::testing {

namespace fs = std::filesystem;

TestDir::TestDir() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = test ? std::string(test->test_suite_name()) + "." + test->name() : "no_test";
  std::replace(name.begin(), name.end(), '/', '_');
  path_ = ::testing::TempDir() + name + "_" + std::to_string(::getpid());
  fs::remove_all(path_);  // left over by a crashed run
  fs::create_directories(path_);
}

TestDir::~TestDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace trellis::testing
