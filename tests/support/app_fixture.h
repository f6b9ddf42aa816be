// Test support: the fixture of the use-case tests (src/app/*_test.cc), over a real SQLite store.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/app.h"
#include "core/clock.h"
#include "support/test_dir.h"

namespace trellis::testing {

// SetUp initialises a store in a fresh data directory (App::Init: SQLite store and key ring),
// opens it (Options()) as app_ and adds one agency, ngo_. Everything is closed and removed when
// the fixture is destroyed: a derived fixture's members (a Jobs on app_) first, then app_, then
// the directory. A derived SetUp starts with ASSERT_NO_FATAL_FAILURE(AppFixture::SetUp()).
class AppFixture : public ::testing::Test {
 protected:
  void SetUp() override;

  // How app_ is opened: by default the data directory on clock_.
  virtual app::OpenOptions Options();
  // Closes app_ (if open) and opens the data directory again.
  void Reopen();
  // A new user of `agency` (password "a good long passphrase"), as the use cases take it.
  app::Principal User(const std::string& agency, const std::string& name, domain::Role role);

  FakeClock clock_{1'780'000'000'000'000};
  TestDir data_dir_;
  const std::string dir_ = data_dir_.path();  // the data directory
  std::unique_ptr<app::App> app_;
  std::string ngo_;  // an NGO service provider
};

}  // namespace trellis::testing
