#include "support/app_fixture.h"

namespace trellis::testing {

void AppFixture::SetUp() {
  ASSERT_TRUE(app::App::Init({dir_}).ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto ngo = app_->AddAgency(app::CliOperator(), "NGO", domain::AgencyKind::kNgoServiceProvider);
  ASSERT_TRUE(ngo.ok()) << ngo.status().ToString();
  ngo_ = ngo->id;
}

app::OpenOptions AppFixture::Options() { return {.data_dir = dir_, .clock = &clock_}; }

void AppFixture::Reopen() {
  app_.reset();
  auto a = app::App::Open(Options());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  app_ = std::move(a).value();
}

app::Principal AppFixture::User(const std::string& agency, const std::string& name, domain::Role role) {
  auto u = app_->AddUser(app::CliOperator(), agency, name, name, role, "a good long passphrase");
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  return app_->PrincipalFor(*u);
}

}  // namespace trellis::testing
