#include "chat/natsx/jetstream.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "chat/natsx/kv.hpp"
#include "chat/telemetry/semconv.hpp"
#include "fixture.hpp"

namespace natsx_test {
namespace {

namespace semconv = chat::telemetry::semconv;
using chat::core::ErrorCode;
using chat::core::Status;
using tel::SpanKind;
using tel::StatusCode;

constexpr chat::core::SubjectTemplate kRoom{"chat.{room}"};
constexpr chat::core::SubjectTemplate kThread{"chat.{room}.thread.{thread_id}"};

class JetStreamTest : public NatsxTest {
 protected:
  void SetUp() override {
    NatsxTest::SetUp();
    if (HasFatalFailure()) return;
    MakeJs({});
  }
  void MakeJs(natsx::JetStreamOptions o) {
    auto js = natsx::JetStream::Create(*conn_, o);
    ASSERT_TRUE(js.ok()) << js.status().ToString();
    js_ = std::move(*js);
    ASSERT_TRUE(
        js_->AddOrUpdateStream({.name = "CHAT", .subjects = {"chat.>"}, .memory_storage = true})
            .ok());
    ASSERT_TRUE(js_->AddOrUpdateConsumer({.stream = "CHAT",
                                          .durable = "persist",
                                          .ack_wait = std::chrono::milliseconds(30000)})
                    .ok());
    auto c = js_->BindPullConsumer("CHAT", "persist", {kRoom, kThread});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    consumer_ = std::move(*c);
  }
  void TearDown() override {
    consumer_.reset();
    js_.reset();
  }
  std::unique_ptr<natsx::JetStream> js_;
  std::unique_ptr<natsx::PullConsumer> consumer_;
};

TEST_F(JetStreamTest, SetUpHelpersAreIdempotent) {
  EXPECT_TRUE(
      js_->AddOrUpdateStream(
             {.name = "CHAT", .subjects = {"chat.>"}, .memory_storage = true, .max_msgs = 1000})
          .ok());
  EXPECT_TRUE(
      js_->AddOrUpdateConsumer(
             {.stream = "CHAT", .durable = "persist", .ack_wait = std::chrono::milliseconds(20000)})
          .ok());
  auto missing = js_->BindPullConsumer("CHAT", "nobody", {kRoom});
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST_F(JetStreamTest, FirstDeliveryIsChildOfPublish) {
  auto root = tel_.tracer().StartSpan("send_message", SpanKind::kInternal, tel::SpanContext{});
  auto seq = js_->Publish(kRoom, {"general"}, R"({"text":"hi"})", root.Context());
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_GT(*seq, 0u);

  std::string got_room;
  uint64_t got_seq = 0;
  auto n = consumer_->Fetch(10, 5s, [&](const natsx::Message& m, natsx::MessageContext&) {
    got_room = std::string(m.Arg("room").value_or(""));
    got_seq = m.delivery().stream_sequence;
    EXPECT_EQ(m.delivery().delivery_count, 1u);
    return Status::Ok();
  });
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(got_room, "general");
  EXPECT_EQ(got_seq, *seq);

  auto pub = WaitSpan("publish chat.{room}");
  auto proc = WaitSpan("process chat.{room}");
  ASSERT_TRUE(pub && proc);
  EXPECT_EQ(pub->kind, SpanKind::kProducer);
  EXPECT_EQ(pub->parent_span_id, root.Context().span_id);
  EXPECT_EQ(Str(*pub, semconv::kMessagingMessageId), std::to_string(*seq));
  EXPECT_EQ(proc->kind, SpanKind::kConsumer);
  EXPECT_EQ(proc->trace_id, pub->trace_id);
  EXPECT_EQ(proc->parent_span_id, pub->span_id);
  EXPECT_TRUE(proc->links.empty());
  EXPECT_EQ(Str(*proc, semconv::kMessagingDestinationSubscriptionName), "persist");
  EXPECT_EQ(Str(*proc, semconv::kMessagingMessageId), std::to_string(*seq));
  EXPECT_EQ(Int(*proc, semconv::kChatJetstreamDeliveryCount), 1);
  EXPECT_EQ(Str(*proc, semconv::kMessagingDestinationTemplate), "chat.{room}");
  EXPECT_EQ(Str(*proc, semconv::kMessagingSystem), "nats");
  EXPECT_NE(sdk::FindEvent(*proc, "ack"), nullptr);  // auto-ack on OK

  // Acked: nothing more to fetch.
  auto again = consumer_->Fetch(
      10, 300ms, [&](const natsx::Message&, natsx::MessageContext&) { return Status::Ok(); });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

TEST_F(JetStreamTest, RedeliveryIsRootWithRedeliveryLink) {
  ASSERT_TRUE(js_->Publish(kThread, {"general", "general-1"}, "x", {}).ok());
  int calls = 0;
  auto handler = [&](const natsx::Message& m, natsx::MessageContext& ctx) {
    ++calls;
    if (m.delivery().delivery_count == 1) {
      EXPECT_TRUE(ctx.Nak(std::chrono::milliseconds(0)).ok());
      return Status::Ok();
    }
    return Status::Ok();
  };
  auto n1 = consumer_->Fetch(1, 5s, handler);
  ASSERT_TRUE(n1.ok());
  ASSERT_EQ(*n1, 1);
  int total = 0;
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] {
        auto n = consumer_->Fetch(1, 500ms, handler);
        if (n.ok()) total += *n;
        return total >= 1;
      },
      10s));
  EXPECT_EQ(calls, 2);
  auto pub = WaitSpan("publish chat.{room}.thread.{thread_id}");
  auto first = WaitSpan("process chat.{room}.thread.{thread_id}", 1);
  auto second = WaitSpan("process chat.{room}.thread.{thread_id}", 2);
  ASSERT_TRUE(pub && first && second);
  EXPECT_EQ(first->parent_span_id, pub->span_id);
  const auto* nak = sdk::FindEvent(*first, "nak");
  ASSERT_NE(nak, nullptr);
  EXPECT_EQ(Int(*second, semconv::kChatJetstreamDeliveryCount), 2);
  EXPECT_FALSE(second->parent_span_id.IsValid());
  EXPECT_NE(second->trace_id, pub->trace_id);
  ASSERT_EQ(second->links.size(), 1u);
  EXPECT_EQ(second->links[0].context.span_id, pub->span_id);
  EXPECT_EQ(second->links[0].context.trace_id, pub->trace_id);
  const auto* reason = sdk::FindAttribute(second->links[0].attributes, semconv::kChatLinkReason);
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(std::get<std::string>(*reason), "redelivery");
}

TEST_F(JetStreamTest, OldFirstDeliveryIsBacklogRoot) {
  // A clock 60 s ahead makes every stored message older than CHAT_TRACE_LINK_AGE_SECONDS (30 s).
  chat::core::FakeClock ahead(chat::core::SystemClock::Instance().NowUnixNanos() +
                              60'000'000'000LL);
  consumer_.reset();
  js_.reset();
  MakeJs({.trace_link_age = std::chrono::seconds(30), .clock = &ahead});
  ASSERT_TRUE(js_->Publish(kRoom, {"general"}, "x", {}).ok());
  auto n = consumer_->Fetch(
      1, 5s, [&](const natsx::Message&, natsx::MessageContext&) { return Status::Ok(); });
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 1);
  auto pub = WaitSpan("publish chat.{room}");
  auto proc = WaitSpan("process chat.{room}");
  ASSERT_TRUE(pub && proc);
  EXPECT_FALSE(proc->parent_span_id.IsValid());
  ASSERT_EQ(proc->links.size(), 1u);
  EXPECT_EQ(proc->links[0].context.span_id, pub->span_id);
  EXPECT_EQ(std::get<std::string>(
                *sdk::FindAttribute(proc->links[0].attributes, semconv::kChatLinkReason)),
            "backlog");
}

TEST_F(JetStreamTest, HandlerErrorNaksAndTermIsRecorded) {
  ASSERT_TRUE(js_->Publish(kRoom, {"a"}, "x", {}).ok());
  ASSERT_TRUE(js_->Publish(kRoom, {"b"}, "y", {}).ok());
  auto n = consumer_->Fetch(2, 5s, [&](const natsx::Message& m, natsx::MessageContext& ctx) {
    if (m.Arg("room") == "a") return chat::core::Unavailable("database down");
    EXPECT_TRUE(ctx.Term("poison").ok());
    EXPECT_FALSE(ctx.Ack().ok());  // the first acknowledgement wins
    return Status::Ok();
  });
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 2);
  auto spans = tel_.FindSpans("process chat.{room}");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].status_code, StatusCode::kError);
  EXPECT_EQ(Str(spans[0], semconv::kErrorType), "unavailable");
  EXPECT_NE(sdk::FindEvent(spans[0], "nak"), nullptr);
  const auto* term = sdk::FindEvent(spans[1], "term");
  ASSERT_NE(term, nullptr);
  ASSERT_NE(sdk::FindAttribute(term->attributes, "reason"), nullptr);
  EXPECT_EQ(std::get<std::string>(*sdk::FindAttribute(term->attributes, "reason")), "poison");
  EXPECT_EQ(spans[1].status_code, StatusCode::kUnset);
}

TEST_F(JetStreamTest, AsyncPublishIsBoundedAndComplete) {
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(js_->PublishAsync(kRoom, {"bulk"}, "x", {}).ok());
  }
  ASSERT_TRUE(js_->PublishAsyncComplete(10s).ok());
  EXPECT_EQ(js_->async_failures(), 0u);
  EXPECT_EQ(tel_.FindSpans("publish chat.{room}").size(), 200u);
  int total = 0;
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] {
        auto n = consumer_->Fetch(
            100, 500ms, [](const natsx::Message&, natsx::MessageContext&) { return Status::Ok(); });
        if (n.ok()) total += *n;
        return total >= 200;
      },
      20s));
  EXPECT_EQ(total, 200);
}

// Regression: libnats 3.4.1 natsSubscription_Fetch wrote past its message array when
// deliveries of an expired pull request were still queued (heap corruption in persist-worker
// at a few thousand msg/s). Short fetches of large batches while a publisher keeps going make
// requests expire with deliveries in flight; every message must arrive exactly once.
TEST_F(JetStreamTest, ShortFetchesUnderLoadDeliverEveryMessageOnce) {
  constexpr int kBacklog = 3000;
  constexpr int kLive = 3000;
  for (int i = 0; i < kBacklog; ++i) {
    ASSERT_TRUE(js_->PublishAsync(kRoom, {"load"}, "x", {}).ok());
  }
  ASSERT_TRUE(js_->PublishAsyncComplete(30s).ok());

  std::atomic<bool> publishing{true};
  std::atomic<int> publish_errors{0};
  std::thread publisher([&] {
    for (int i = 0; i < kLive; ++i) {
      if (!js_->PublishAsync(kThread, {"load", "t1"}, "y", {}).ok()) publish_errors.fetch_add(1);
    }
    if (!js_->PublishAsyncComplete(30s).ok()) publish_errors.fetch_add(1);
    publishing = false;
  });

  std::map<uint64_t, int> seen;  // stream sequence -> deliveries
  int fetches = 0;
  int fetch_errors = 0;
  bool all = chat::testing::WaitFor(
      [&] {
        ++fetches;
        // Mostly timeouts shorter than the delivery of 500 messages takes, so requests end
        // (client-side and server-side) with deliveries still on the way.
        auto timeout = std::chrono::milliseconds(fetches % 4 == 0 ? 50 : 1 + fetches % 3);
        auto batch = consumer_->FetchBatch(500, timeout);
        if (!batch.ok()) {
          ++fetch_errors;
          return false;
        }
        for (auto& m : *batch) {
          EXPECT_EQ(m->delivery().delivery_count, 1u);
          ++seen[m->delivery().stream_sequence];
          EXPECT_TRUE(m->context().Ack().ok());
        }
        return !publishing.load() && seen.size() >= static_cast<size_t>(kBacklog) + kLive;
      },
      90s);
  publisher.join();
  ASSERT_TRUE(all) << "received " << seen.size() << " in " << fetches << " fetches";
  EXPECT_EQ(publish_errors.load(), 0);
  EXPECT_EQ(fetch_errors, 0);
  EXPECT_EQ(js_->async_failures(), 0u);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kBacklog + kLive));
  EXPECT_EQ(seen.begin()->first, 1u);
  EXPECT_EQ(seen.rbegin()->first, static_cast<uint64_t>(kBacklog + kLive));
  for (const auto& [seq, count] : seen) {
    ASSERT_EQ(count, 1) << "stream sequence " << seq;
  }
  // Everything was acknowledged: nothing comes back.
  auto rest = consumer_->FetchBatch(500, 300ms);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_TRUE(rest->empty());
}

TEST_F(JetStreamTest, DeliveryMetadataIsFilled) {
  const int64_t before = chat::core::SystemClock::Instance().NowUnixNanos();
  auto s1 = js_->Publish(kRoom, {"meta"}, "a", {});
  auto s2 = js_->Publish(kThread, {"meta", "t"}, "b", {});
  ASSERT_TRUE(s1.ok() && s2.ok());
  const int64_t after = chat::core::SystemClock::Instance().NowUnixNanos();
  auto batch = consumer_->FetchBatch(10, 5s);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 2u);
  const auto& d1 = (*batch)[0]->delivery();
  const auto& d2 = (*batch)[1]->delivery();
  EXPECT_TRUE(d1.jetstream);
  EXPECT_EQ(d1.stream, "CHAT");
  EXPECT_EQ(d1.consumer, "persist");
  EXPECT_EQ(d1.stream_sequence, *s1);
  EXPECT_EQ(d2.stream_sequence, *s2);
  EXPECT_EQ(d1.consumer_sequence, 1u);
  EXPECT_EQ(d2.consumer_sequence, 2u);
  EXPECT_EQ(d1.delivery_count, 1u);
  EXPECT_EQ(d2.delivery_count, 1u);
  // The server's store time, read from the ack subject (same host clock; 1 s of slack).
  EXPECT_GE(d1.timestamp_unix_nano, before - 1'000'000'000LL);
  EXPECT_LE(d2.timestamp_unix_nano, after + 1'000'000'000LL);
  EXPECT_LE(d1.timestamp_unix_nano, d2.timestamp_unix_nano);
  EXPECT_EQ((*batch)[1]->message().Arg("thread_id"), "t");
  for (auto& m : *batch) EXPECT_TRUE(m->context().Ack().ok());
}

TEST_F(JetStreamTest, NakWithDelayRedeliversAndTermStopsRedelivery) {
  ASSERT_TRUE(js_->Publish(kRoom, {"retry"}, "a", {}).ok());
  ASSERT_TRUE(js_->Publish(kRoom, {"poison"}, "b", {}).ok());
  {
    auto first = consumer_->FetchBatch(2, 5s);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_EQ(first->size(), 2u);
    for (auto& m : *first) {
      if (m->message().Arg("room") == "retry") {
        EXPECT_TRUE(m->context().Nak(std::chrono::milliseconds(200)).ok());
      } else {
        EXPECT_TRUE(m->context().Term("poison").ok());
      }
      EXPECT_FALSE(m->context().Ack().ok());  // the first acknowledgement wins
    }
  }
  std::vector<std::pair<std::string, uint64_t>> redelivered;
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] {
        auto b = consumer_->FetchBatch(10, 200ms);
        if (b.ok()) {
          for (auto& m : *b) {
            redelivered.emplace_back(std::string(m->message().Arg("room").value_or("")),
                                     m->delivery().delivery_count);
            EXPECT_TRUE(m->context().Ack().ok());
          }
        }
        return !redelivered.empty();
      },
      10s));
  ASSERT_EQ(redelivered.size(), 1u);
  EXPECT_EQ(redelivered[0].first, "retry");
  EXPECT_EQ(redelivered[0].second, 2u);

  // The terminated message is settled on the server (not waiting for the 30 s ack wait), and
  // the redelivered one is acked: nothing pending, nothing awaiting an ack.
  ASSERT_TRUE(chat::testing::WaitFor(
      [&] {
        jsConsumerInfo* ci = nullptr;
        if (js_GetConsumerInfo(&ci, js_->native(), "CHAT", "persist", nullptr, nullptr) !=
            NATS_OK) {
          return false;
        }
        bool settled = ci->NumAckPending == 0 && ci->NumPending == 0;
        jsConsumerInfo_Destroy(ci);
        return settled;
      },
      10s));
  auto rest = consumer_->FetchBatch(10, 300ms);
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->empty());

  auto spans = tel_.FindSpans("process chat.{room}");
  ASSERT_EQ(spans.size(), 3u);
  const tel::SpanData* nak_span = nullptr;
  for (const auto& sp : spans) {
    if (sdk::FindEvent(sp, "nak") != nullptr) nak_span = &sp;
  }
  ASSERT_NE(nak_span, nullptr);
  const auto* delay = sdk::FindAttribute(sdk::FindEvent(*nak_span, "nak")->attributes, "delay_ms");
  ASSERT_NE(delay, nullptr);
  EXPECT_EQ(std::get<int64_t>(*delay), 200);
}

TEST_F(JetStreamTest, ConsumerDeletedDuringFetchIsAnError) {
  // The server answers a waiting pull request with 409 Consumer Deleted.
  std::atomic<bool> done{false};
  chat::core::Status fetch_status;
  size_t fetched = 99;
  std::thread fetcher([&] {
    auto batch = consumer_->FetchBatch(10, 20s);
    fetch_status = batch.status();
    if (batch.ok()) fetched = batch->size();
    done = true;
  });
  auto waiting = [&] {
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, js_->native(), "CHAT", "persist", nullptr, nullptr) != NATS_OK) {
      return false;
    }
    bool w = ci->NumWaiting > 0;
    jsConsumerInfo_Destroy(ci);
    return w;
  };
  bool registered = chat::testing::WaitFor(waiting, 10s);
  EXPECT_TRUE(registered);
  // EXPECT, not ASSERT: the fetcher thread must be joined whatever happens (it ends by 20 s).
  EXPECT_EQ(js_DeleteConsumer(js_->native(), "CHAT", "persist", nullptr, nullptr), NATS_OK);
  EXPECT_TRUE(chat::testing::WaitFor([&] { return done.load(); }, 15s));
  fetcher.join();
  EXPECT_EQ(fetch_status.code(), ErrorCode::kUnavailable) << fetch_status.ToString();
  EXPECT_NE(fetch_status.message().find("409"), std::string::npos) << fetch_status.ToString();
  EXPECT_EQ(fetched, 99u);
  int refused_logs = 0;
  for (const auto& r : tel_.LogRecords()) {
    if (r.body == "jetstream pull request refused") ++refused_logs;
  }
  EXPECT_EQ(refused_logs, 1);
}

TEST_F(JetStreamTest, KeyValueSpansAndResults) {
  auto kv = js_->CreateKeyValue({.bucket = "MSG_CACHE", .history = 2, .memory_storage = true});
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  auto& b = **kv;
  auto parent = tel_.tracer().StartSpan("op", SpanKind::kInternal, tel::SpanContext{});

  auto rev = b.Put("k1", "v1", parent.Context());
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  auto got = b.Get("k1", parent.Context());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value, "v1");
  EXPECT_EQ(got->revision, *rev);

  auto exists = b.Create("k1", "v2", parent.Context());
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(exists.status().code(), ErrorCode::kAlreadyExists);
  auto created = b.Create("k2", "v2", parent.Context());
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  auto missing = b.Get("nope", parent.Context());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);

  auto stale = b.Update("k1", "v3", *rev + 100, parent.Context());
  EXPECT_EQ(stale.status().code(), ErrorCode::kAlreadyExists);
  auto fresh = b.Update("k1", "v3", *rev, parent.Context());
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();

  ASSERT_TRUE(b.Delete("k2", parent.Context()).ok());
  EXPECT_EQ(b.Get("k2", parent.Context()).status().code(), ErrorCode::kNotFound);

  auto put = WaitSpan("put MSG_CACHE");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->kind, SpanKind::kClient);
  EXPECT_EQ(put->parent_span_id, parent.Context().span_id);
  EXPECT_EQ(Str(*put, semconv::kDbSystemName), "nats_kv");
  EXPECT_EQ(Str(*put, semconv::kDbSystem), "nats_kv");
  EXPECT_EQ(Str(*put, semconv::kDbCollectionName), "MSG_CACHE");
  EXPECT_EQ(Str(*put, semconv::kDbOperationName), "put");
  EXPECT_EQ(Str(*put, semconv::kServerAddress), "127.0.0.1");
  EXPECT_EQ(Str(*put, semconv::kChatKvResult), "ok");

  auto gets = tel_.FindSpans("get MSG_CACHE");
  ASSERT_EQ(gets.size(), 3u);
  EXPECT_EQ(Str(gets[0], semconv::kChatKvResult), "ok");
  EXPECT_EQ(Str(gets[1], semconv::kChatKvResult), "not_found");
  EXPECT_EQ(gets[1].status_code, StatusCode::kUnset);
  EXPECT_EQ(Str(gets[2], semconv::kChatKvResult), "not_found");

  auto creates = tel_.FindSpans("create MSG_CACHE");
  ASSERT_EQ(creates.size(), 2u);
  EXPECT_EQ(Str(creates[0], semconv::kChatKvResult), "exists");
  EXPECT_EQ(creates[0].status_code, StatusCode::kUnset);
  EXPECT_EQ(Str(creates[1], semconv::kChatKvResult), "ok");
  auto updates = tel_.FindSpans("update MSG_CACHE");
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(Str(updates[0], semconv::kChatKvResult), "exists");
  EXPECT_EQ(updates[0].status_code, StatusCode::kUnset);
  auto del = WaitSpan("delete MSG_CACHE");
  ASSERT_TRUE(del);
  EXPECT_EQ(Str(*del, semconv::kDbOperationName), "delete");
}

TEST_F(JetStreamTest, KeyValueWatchSeesUpdates) {
  auto kv = js_->CreateKeyValue({.bucket = "PRESENCE", .memory_storage = true});
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  ASSERT_TRUE((*kv)->Put("alice", "online", {}).ok());
  auto w = (*kv)->Watch("", {});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto first = (*w)->Next(5s);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->key, "alice");
  auto marker = (*w)->Next(5s);  // end of initial values
  ASSERT_TRUE(marker.ok());
  EXPECT_FALSE(marker->has_value());
  ASSERT_TRUE((*kv)->Put("bob", "away", {}).ok());
  auto next = (*w)->Next(5s);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->key, "bob");
  EXPECT_EQ((*next)->value, "away");
  EXPECT_TRUE(WaitSpan("watch PRESENCE"));
}

TEST_F(JetStreamTest, KeyValueFailureIsError) {
  auto kv = js_->CreateKeyValue({.bucket = "GONE", .memory_storage = true});
  ASSERT_TRUE(kv.ok());
  ASSERT_TRUE(js_->DeleteStream("KV_GONE").ok());
  auto r = (*kv)->Put("k", "v", {});
  ASSERT_FALSE(r.ok());
  auto put = WaitSpan("put GONE");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status_code, StatusCode::kError);
  EXPECT_NE(Str(*put, semconv::kErrorType), "<absent>");
}

}  // namespace
// Issue 11 item 6: a bucket's bounds hold — a value over max_value_size and a new key in a full
// discard-new bucket are refused as resource_exhausted (ERROR span), a key already stored may
// still be overwritten, and a discard-old bucket (a cache) evicts its oldest entries instead.
TEST_F(JetStreamTest, KeyValueBoundsRefuseOversizedValuesAndNewKeysWhenFull) {
  auto kv = js_->CreateKeyValue(
      {.bucket = "BOUNDED", .max_bytes = 4096, .max_value_size = 100, .memory_storage = true});
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  auto big = (*kv)->Put("big", std::string(101, 'x'), {});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kResourceExhausted) << big.status().ToString();
  auto span = WaitSpan("put BOUNDED");
  ASSERT_TRUE(span);
  EXPECT_EQ(span->status_code, StatusCode::kError);
  EXPECT_EQ(Str(*span, semconv::kErrorType), "resource_exhausted");

  Status refused;
  int stored = 0;
  for (int i = 0; i < 200 && refused.ok(); ++i) {
    auto r = (*kv)->Put("k" + std::to_string(i), std::string(90, 'x'), {});
    if (r.ok()) {
      ++stored;
    } else {
      refused = r.status();
    }
  }
  ASSERT_FALSE(refused.ok()) << "4096 bytes never filled";
  EXPECT_EQ(refused.code(), ErrorCode::kResourceExhausted) << refused.ToString();
  EXPECT_GT(stored, 10);
  EXPECT_TRUE((*kv)->Put("k0", "small", {}).ok());  // an existing key still updates

  auto cache = js_->CreateKeyValue({.bucket = "CACHE",
                                    .max_bytes = 4096,
                                    .max_value_size = 100,
                                    .discard_old = true,
                                    .memory_storage = true});
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  for (int i = 0; i < 200; ++i) {
    auto r = (*cache)->Put("c" + std::to_string(i), std::string(90, 'x'), {});
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
  }
  EXPECT_EQ((*cache)->Get("c0", {}).status().code(), ErrorCode::kNotFound);  // evicted
  EXPECT_TRUE((*cache)->Get("c199", {}).ok());
}

// A bucket created before its bounds existed gets them when a service creates it again.
TEST_F(JetStreamTest, CreateKeyValueAppliesBoundsToAnExistingBucket) {
  auto old = js_->CreateKeyValue({.bucket = "LEGACY", .ttl = 60s, .memory_storage = true});
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_TRUE((*old)->Put("k", std::string(500, 'x'), {}).ok());
  // Another TTL too: the create fails as "exists with a different configuration" and binds.
  auto again = js_->CreateKeyValue({.bucket = "LEGACY",
                                    .ttl = 30s,
                                    .max_bytes = 1 << 20,
                                    .max_value_size = 100,
                                    .memory_storage = true});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto big = (*again)->Put("k2", std::string(500, 'x'), {});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kResourceExhausted);
  bool logged = false;
  for (const auto& r : tel_.LogRecords()) logged |= r.body == "kv bucket limits applied";
  EXPECT_TRUE(logged);
}

TEST_F(JetStreamTest, StreamMaxMsgSizeRefusesLargerMessages) {
  ASSERT_TRUE(js_->AddOrUpdateStream({.name = "SIZED",
                                      .subjects = {"sized.>"},
                                      .memory_storage = true,
                                      .max_bytes = 1 << 20,
                                      .max_msg_size = 1024})
                  .ok());
  static constexpr chat::core::SubjectTemplate kSized{"sized.{n}"};
  EXPECT_TRUE(js_->Publish(kSized, {"a"}, std::string(100, 'x'), {}).ok());
  auto big = js_->Publish(kSized, {"b"}, std::string(2000, 'x'), {});
  EXPECT_FALSE(big.ok());
}

// A server whose memory store holds 64 MiB: a 40 MiB stream fits once, not twice.
class JetStreamLimitsTest : public NatsxTest {
 protected:
  chat::testing::NatsServer::Options ServerOptions() override {
    config_ = std::filesystem::temp_directory_path() /
              ("natsx-js-limits-" + std::to_string(getpid()) + ".conf");
    std::ofstream(config_) << "jetstream { max_memory_store: 64MB }\n";
    chat::testing::NatsServer::Options o;
    o.config_file = config_.string();
    return o;
  }
  void TearDown() override { std::filesystem::remove(config_); }
  std::filesystem::path config_;
};

// nats-server 2.9 answers a re-add of such a stream with "insufficient storage" (its own
// reservation counted twice) rather than "name in use": set-up must still be idempotent, as a
// restarted service repeats it, while a stream that really does not fit is still refused.
TEST_F(JetStreamLimitsTest, ReAddingAStreamThatFitsOnlyOnceIsAnUpdate) {
  auto js = natsx::JetStream::Create(*conn_, {});
  ASSERT_TRUE(js.ok()) << js.status().ToString();
  const natsx::StreamConfig big{
      .name = "BIG", .subjects = {"big.>"}, .memory_storage = true, .max_bytes = int64_t{40} << 20};
  ASSERT_TRUE((*js)->AddOrUpdateStream(big).ok());
  auto again = (*js)->AddOrUpdateStream(big);
  EXPECT_TRUE(again.ok()) << again.ToString();
  natsx::StreamConfig other = big;
  other.name = "OTHER";
  other.subjects = {"other.>"};
  auto refused = (*js)->AddOrUpdateStream(other);
  EXPECT_EQ(refused.code(), chat::core::ErrorCode::kResourceExhausted) << refused.ToString();
}

}  // namespace natsx_test
