#include "gateway/ergwd/status_collector.h"

#include <boost/asio/post.hpp>

#include "vici/commands.h"

namespace ergw::gateway {
namespace {

std::string age(std::chrono::steady_clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

struct StatusCollector::Round {
  uint64_t id = 0;
  std::function<void(CollectedStatus)> done;
  CollectedStatus status;
  bool charon_done = false;
  bool bgp_done = true;
  std::unique_ptr<Timer> deadline;
};

StatusCollector::StatusCollector(boost::asio::any_io_executor executor, ergw::Clock& clock, vici::Client& charon,
                                 std::chrono::milliseconds deadline)
    : executor_(std::move(executor)), clock_(clock), charon_(charon), deadline_(deadline) {}

StatusCollector::~StatusCollector() { *alive_ = false; }

void StatusCollector::collect(BgpController* bgp, std::function<void(CollectedStatus)> done) {
  auto owned = std::make_unique<Round>();
  Round* round = owned.get();
  round->id = ++next_round_;
  round->done = std::move(done);
  round->deadline = clock_.make_timer();
  rounds_.push_back(std::move(owned));

  if (bgp != nullptr) {
    round->bgp_done = false;
    // The controller answers within the deadline by itself.
    bgp->report(deadline_, [this, round, alive = std::weak_ptr<bool>(alive_)](nlohmann::json report) {
      auto token = alive.lock();
      if (!token || !*token) return;
      if (report.contains("bird") && report["bird"].value("running", false) &&
          !report["bird"].value("answering", true)) {
        round->status.not_answering.push_back(
            {{"daemon", "BIRD"}, {"detail", report["bird"].value("error", "no answer")}});
      }
      round->status.bgp = std::move(report);
      round->bgp_done = true;
      finish(*round);
    });
  }

  if (!charon_.connected()) {
    round->status.charon_error = "charon is not connected";
    round->charon_done = true;
    // Never inside collect(): through the executor (with BGP, its report
    // finishes the round).
    if (bgp == nullptr) {
      boost::asio::post(executor_, [this, id = round->id, alive = std::weak_ptr<bool>(alive_)] {
        auto token = alive.lock();
        if (!token || !*token) return;
        for (const auto& r : rounds_) {
          if (r->id == id) {
            finish(*r);
            return;
          }
        }
      });
    }
    return;
  }
  round->deadline->start(deadline_, [this, round] {
    if (round->charon_done) return;
    round->charon_done = true;
    std::string detail = "no answer to list-sas within " + std::to_string(deadline_.count()) +
                         " ms (stopped or overloaded?)";
    round->status.not_answering.push_back({{"daemon", "charon"}, {"detail", detail}});
    if (last_sas_at_) {
      detail += "; SAs as charon reported them " + age(clock_.now() - *last_sas_at_) + " ago";
      round->status.sas = last_sas_;
    }
    round->status.charon_error = "charon is not answering: " + detail;
    finish(*round);
  });
  vici::list_sas(charon_, {}, [this, id = round->id, alive = std::weak_ptr<bool>(alive_)](
                                  Result<std::vector<vici::IkeSaInfo>> sas) {
    auto token = alive.lock();
    if (!token || !*token) return;
    if (sas) {
      last_sas_ = sas.value();
      last_sas_at_ = clock_.now();
    }
    // A late answer only updates what the next status shows.
    for (const auto& r : rounds_) {
      if (r->id != id) continue;
      Round& waiting = *r;
      if (waiting.charon_done) return;
      waiting.charon_done = true;
      waiting.deadline->cancel();
      if (sas) waiting.status.sas = std::move(sas.value());
      else waiting.status.charon_error = sas.error();
      finish(waiting);
      return;
    }
  });
}

void StatusCollector::finish(Round& round) {
  if (!round.charon_done || !round.bgp_done || !round.done) return;
  auto done = std::move(round.done);
  round.done = nullptr;
  CollectedStatus status = std::move(round.status);
  std::erase_if(rounds_, [&](const auto& r) { return r.get() == &round; });
  done(std::move(status));
}

}  // namespace ergw::gateway
