#include "gateway/api/router.h"

#include <gtest/gtest.h>

namespace ergw::api {
namespace {

using boost::beast::http::verb;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = router_.add(verb::get, "/v1/config", Access::read);
    put_config_ = router_.add(verb::put, "/v1/config", Access::admin);
    validate_ = router_.add(verb::post, "/v1/config:validate", Access::read);
    revision_ = router_.add(verb::get, "/v1/config/revisions/{id}", Access::read);
    rollback_ = router_.add(verb::post, "/v1/config/revisions/{id}:rollback", Access::admin);
    confirm_ = router_.add(verb::post, "/v1/config/confirm", Access::admin);
    connection_ = router_.add(verb::get, "/v1/connections/{name}", Access::read);
  }
  Router router_;
  int config_, put_config_, validate_, revision_, rollback_, confirm_, connection_;
};

TEST_F(RouterTest, LiteralsAndMethods) {
  EXPECT_EQ(router_.match(verb::get, "/v1/config").route, config_);
  EXPECT_EQ(router_.match(verb::put, "/v1/config").route, put_config_);
  EXPECT_EQ(router_.match(verb::get, "/v1/config/").route, config_);  // one trailing slash
  auto m = router_.match(verb::delete_, "/v1/config");
  EXPECT_EQ(m.route, -1);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "PUT"}));
  EXPECT_EQ(router_.match(verb::get, "/v1/nothing").route, -1);
  EXPECT_TRUE(router_.match(verb::get, "/v1/nothing").allowed.empty());
}

TEST_F(RouterTest, ParametersAndCustomMethods) {
  auto m = router_.match(verb::get, "/v1/config/revisions/12");
  EXPECT_EQ(m.route, revision_);
  EXPECT_EQ(m.params["id"], "12");
  m = router_.match(verb::post, "/v1/config/revisions/12:rollback");
  EXPECT_EQ(m.route, rollback_);
  EXPECT_EQ(m.params["id"], "12");
  EXPECT_EQ(router_.match(verb::post, "/v1/config:validate").route, validate_);
  // A custom method is not a parameter value of the plain route.
  EXPECT_EQ(router_.match(verb::get, "/v1/config/revisions/12:rollback").route, -1);
  EXPECT_EQ(router_.match(verb::post, "/v1/config/revisions/:rollback").route, -1);
  EXPECT_EQ(router_.match(verb::post, "/v1/config/confirm").route, confirm_);
}

TEST_F(RouterTest, PercentDecodingAndHostilePaths) {
  auto m = router_.match(verb::get, "/v1/connections/azure%2Dhub");
  EXPECT_EQ(m.route, connection_);
  EXPECT_EQ(m.params["name"], "azure-hub");
  for (const char* path : {"/v1/connections/a%2Fb", "/v1/connections/..", "/v1//config", "v1/config",
                           "/v1/connections/%zz", "/v1/connections/a%00", "/v1/connections/%4"}) {
    EXPECT_EQ(router_.match(verb::get, path).route, -1) << path;
  }
}

}  // namespace
}  // namespace ergw::api
