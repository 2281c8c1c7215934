// ServiceTest / PgServiceTest: gtest fixture bases for a service run in-process against real
// dependencies — a nats-server per test (KV buckets and streams start empty), natsx connections
// as the service or as a user (inbox _INBOX.{user}, docs/adr/0001), and for PgServiceTest a fresh
// migrated database per test from one PgCluster per suite (pg_fixture.hpp). Header-only: a test
// including it links chat::natsx, chat::pg and chat::telemetry_sdk.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "chat/natsx/connection.hpp"
#include "chat/telemetry/sdk/in_memory_exporter.hpp"
#include "chat/testing/nats_server.hpp"
#include "chat/testing/pg_fixture.hpp"

namespace chat::testing {

// NATS only; the Postgres part of the base stays unused unless a test calls CreateDatabase().
class ServiceTest : public PgDatabaseTest {
 protected:
  // Derived SetUps call this first and return when HasFatalFailure().
  void SetUp() override { StartNats(); }

  void StartNats() {
    auto server = NatsServer::Create();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  // A connection named `name` whose spans go to `t`; inbox "" keeps the library default.
  std::unique_ptr<natsx::Connection> Connect(const std::string& name, const std::string& inbox,
                                             const telemetry::sdk::InMemoryTelemetry& t) {
    natsx::ConnectionOptions o;
    o.urls = {server_->url()};
    o.name = name;
    o.inbox_prefix = inbox;
    auto c = natsx::Connection::Connect(std::move(o), t.telemetry());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::unique_ptr<natsx::Connection> Connect(const std::string& name, const std::string& inbox) {
    return Connect(name, inbox, tel_);
  }
  // A connection acting as `user`: its replies come back to _INBOX.{user}.…
  std::unique_ptr<natsx::Connection> User(const std::string& user) {
    return Connect("client-" + user, "_INBOX." + user);
  }

  // Declared after tel_ (in the base) and before the derived fixture's connections, so those
  // close before the server stops.
  std::unique_ptr<NatsServer> server_;
};

// NATS plus a fresh migrated database (db_, Dsn()) per test.
class PgServiceTest : public ServiceTest {
 protected:
  void SetUp() override {
    CreateDatabase();
    if (HasFatalFailure()) return;
    StartNats();
  }
};

}  // namespace chat::testing
