// What only the PostgreSQL store has: URLs and passwords, many jobs in one database, the
// schema version, and a server that goes away and comes back.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/postgres_server.h"
#include "tabpilot/common/error.h"
#include "tabpilot/store/postgres_store.h"

namespace tabpilot {
namespace {

using testing::PostgresServer;

TEST(StoreUrl, PasswordsAreRedactedWhereverTheyAre) {
  EXPECT_EQ(redact_url("postgresql://ann:s3cret@db.example:5432/tabpilot"),
            "postgresql://ann@db.example:5432/tabpilot");
  EXPECT_EQ(redact_url("postgresql://db/tabpilot?password=s3cret"), "postgresql://db/tabpilot");
  EXPECT_EQ(redact_url("postgresql://db/tabpilot?sslmode=require&password=x&user=ann"),
            "postgresql://db/tabpilot?sslmode=require&user=ann");
  const std::string clean = "postgresql:///tabpilot?host=/run/pg&port=5432&user=ann";
  EXPECT_EQ(redact_url(clean), clean);
  // '@' or ':' after the host part are not a password.
  EXPECT_EQ(redact_url("postgresql://db:5432/a@b"), "postgresql://db:5432/a@b");
  EXPECT_TRUE(is_postgres_url("postgres://db/x"));
  EXPECT_FALSE(is_postgres_url("sqlite:///x"));
}

#ifdef TABPILOT_HAVE_LIBPQ

TEST(PostgresStore, APasswordInTheUrlIsRefusedWithoutConnecting) {
  try {
    PostgresStore("postgresql://ann:s3cret@127.0.0.1:1/tabpilot", "job");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("PGPASSWORD"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
  }
}

TEST(PostgresStore, AnUnreachableServerIsBadInputNamingIt) {
  try {
    PostgresStore("postgresql:///tabpilot?host=/nonexistent-socket-dir&port=5432", "job");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
    EXPECT_NE(what.find("/nonexistent-socket-dir"), std::string::npos) << what;
  }
}

class PostgresStoreServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresServer::available()) GTEST_SKIP() << PostgresServer::why_not();
    url_ = PostgresServer::shared().new_database();
  }
  std::string url_;
};

TEST_F(PostgresStoreServer, JobsInOneDatabaseKeepApart) {
  PostgresStore a(url_, "alpha"), b(url_, "beta");
  const NewTrial ta = a.create_trial(TrialDraft{"t", "t", "linear", {}});
  const NewTrial tb = b.create_trial(TrialDraft{"t", "t", "linear", {}});
  EXPECT_EQ(ta.index, 0);
  EXPECT_EQ(tb.index, 0);  // each job numbers its own trials
  EXPECT_EQ(ta.name, tb.name);
  a.put_artifacts(ta.name, {{"model.json", "alpha"}});
  b.put_artifacts(tb.name, {{"model.json", "beta"}});
  EXPECT_EQ(a.get_artifact(ta.name, "model.json"), "alpha");
  EXPECT_EQ(b.get_artifact(tb.name, "model.json"), "beta");
  EXPECT_FALSE(b.trial(ta.id).has_value());  // ids are global; another job's are not visible
  EXPECT_EQ(a.trials().size(), 1u);
  EXPECT_NE(a.location().find("alpha"), std::string::npos);
}

TEST_F(PostgresStoreServer, ANewerSchemaIsRefusedAndAnOlderOneMigrated) {
  { PostgresStore s(url_, "job"); }
  const std::string db = url_.substr(url_.find(":///") + 4, url_.find('?') - url_.find(":///") - 4);
  PostgresServer::shared().psql("UPDATE tabpilot_schema SET version = 99", db);
  try {
    PostgresStore s(url_, "job");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  PostgresServer::shared().psql("UPDATE tabpilot_schema SET version = 0", db);
  { PostgresStore s(url_, "job"); }
  EXPECT_EQ(PostgresServer::shared().psql("SELECT version FROM tabpilot_schema", db),
            std::to_string(PostgresStore::schema_version()) + "\n");
}

// A server restart cuts every connection; the store reconnects and the job goes on, nothing
// lost and nothing done twice.
TEST_F(PostgresStoreServer, AServerRestartIsRiddenOut) {
  PostgresStore s(url_, "job");
  const NewTrial a = s.create_trial(TrialDraft{"t", "t", "linear", {}});
  s.start_trial(a.id, "w");
  PostgresServer::shared().restart();
  s.report_intermediate(a.id, 0, 0.5);
  s.finish_trial(a.id, TrialState::kComplete, {}, 0.5, "", {});
  const NewTrial b = s.create_trial(TrialDraft{"t", "t", "linear", {}});
  EXPECT_EQ(b.index, 1);
  const auto all = s.trials();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, TrialState::kComplete);
  EXPECT_EQ(all[0].intermediate.size(), 1u);
}

TEST_F(PostgresStoreServer, AServerThatStaysDownFailsTheOperationSayingSo) {
  PostgresStore s(url_, "job");
  ::setenv("TABPILOT_STORE_RETRY_SECONDS", "1", 1);
  PostgresServer::shared().stop();
  try {
    s.trials();
    ADD_FAILURE() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("connection is lost"), std::string::npos) << e.what();
  }
  ::unsetenv("TABPILOT_STORE_RETRY_SECONDS");
  PostgresServer::shared().start();
  EXPECT_TRUE(s.trials().empty());  // and it comes back when the server does
}

#endif  // TABPILOT_HAVE_LIBPQ

}  // namespace
}  // namespace tabpilot
