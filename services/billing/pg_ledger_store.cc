// PgLedgerStore: batched, idempotent ledger writes with their balance changes.
#include "services/billing/pg_ledger_store.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace routeall::billing {
namespace {

// A PostgreSQL array literal of strings, every element quoted and escaped.
std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char ch : values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string IntArray(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(values[i]);
  }
  out += '}';
  return out;
}

// Timestamps cross the wire as microseconds since the epoch: exact both ways.
std::string MicrosToTs(const std::string& param) {
  return absl::StrCat("(timestamptz 'epoch' + ", param, "::bigint * interval '1 microsecond')");
}

constexpr const char* kTsToMicros = "floor(extract(epoch FROM occurred_at) * 1000000)::bigint";

BalanceSnapshot ReadBalance(const pqxx::row& r) {
  return {r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<int64_t>()};
}

}  // namespace

PgLedgerStore::PgLedgerStore(std::shared_ptr<PgPool> pool, std::string schema)
    : pool_(std::move(pool)), schema_(std::move(schema)) {}

absl::Status PgLedgerStore::TransactWithRetry(const std::function<void(pqxx::work&)>& fn) {
  absl::Status st;
  for (int attempt = 0; attempt < 5; ++attempt) {
    st = pool_->Transact(fn);
    if (st.code() != absl::StatusCode::kAborted) break;
  }
  return st;
}

absl::StatusOr<BalanceSnapshot> PgLedgerStore::GetBalance(int64_t account_id) {
  BalanceSnapshot out{account_id, 0, 0};
  absl::Status st = pool_->Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_params(absl::StrCat("SELECT account_id, balance_micros, version FROM ", schema_,
                                            ".balances WHERE account_id = $1"),
                               account_id);
    if (!rows.empty()) out = ReadBalance(rows[0]);
  });
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<SettleResult> PgLedgerStore::SettleUsage(const std::vector<UsageEntry>& entries) {
  // One row per request id (the first wins), in key order: concurrent batches then take
  // the unique-index locks in the same order and cannot deadlock on them.
  std::map<std::string, const UsageEntry*> by_id;
  for (const UsageEntry& e : entries) by_id.emplace(e.request_id, &e);
  SettleResult result;
  if (by_id.empty()) return result;

  std::vector<std::string> ids, models;
  std::vector<int64_t> account, key, channel, prompt, cached, cache_write, completion, reasoning, calls,
      searches, charge, version, at;
  for (const auto& [id, e] : by_id) {
    ids.push_back(id);
    models.push_back(e->model);
    account.push_back(e->account_id);
    key.push_back(e->key_id);
    channel.push_back(e->channel_id);
    prompt.push_back(e->prompt_tokens);
    cached.push_back(e->cached_tokens);
    cache_write.push_back(e->cache_write_tokens);
    completion.push_back(e->completion_tokens);
    reasoning.push_back(e->reasoning_tokens);
    calls.push_back(e->calls);
    searches.push_back(e->web_searches);
    charge.push_back(e->charge_micros);
    version.push_back(e->price_version);
    at.push_back(absl::ToUnixMicros(e->occurred_at));
  }
  const std::string insert = absl::StrCat(
      "INSERT INTO ", schema_,
      ".ledger (entry_key, kind, account_id, key_id, model, channel_id, prompt_tokens, cached_tokens, "
      "cache_write_tokens, completion_tokens, reasoning_tokens, calls, web_searches, amount_micros, "
      "price_version, request_id, occurred_at) "
      "SELECT 'usage:' || r, 1, a, k, m, c, p, cr, cw, co, re, ca, ws, -ch, pv, r, ",
      MicrosToTs("t"),
      " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], "
      "$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], "
      "$14::bigint[], $15::bigint[]) AS u(r, a, k, m, c, p, cr, cw, co, re, ca, ws, ch, pv, t) ORDER BY r "
      "ON CONFLICT (entry_key) DO NOTHING RETURNING request_id, account_id, amount_micros");
  const std::string upsert = absl::StrCat(
      "INSERT INTO ", schema_,
      ".balances AS b (account_id, balance_micros, version) "
      "SELECT a, d, 1 FROM unnest($1::bigint[], $2::bigint[]) AS u(a, d) ORDER BY a "
      "ON CONFLICT (account_id) DO UPDATE SET balance_micros = b.balance_micros + EXCLUDED.balance_micros, "
      "version = b.version + 1, updated_at = now() RETURNING account_id, balance_micros, version");

  std::string data_error;
  absl::Status st = TransactWithRetry([&](pqxx::work& tx) {
    try {
      result = SettleResult{};
      std::map<int64_t, int64_t> delta;  // ordered: balance rows are locked in account order
      for (const auto& r :
           tx.exec_params(insert, TextArray(ids), IntArray(account), IntArray(key), TextArray(models),
                          IntArray(channel), IntArray(prompt), IntArray(cached), IntArray(cache_write),
                          IntArray(completion), IntArray(reasoning), IntArray(calls), IntArray(searches),
                          IntArray(charge), IntArray(version), IntArray(at))) {
        result.inserted.push_back(r[0].as<std::string>());
        delta[r[1].as<int64_t>()] += r[2].as<int64_t>();
      }
      if (delta.empty()) return;
      std::vector<int64_t> accounts, deltas;
      for (const auto& [a, d] : delta) {
        accounts.push_back(a);
        deltas.push_back(d);
      }
      for (const auto& r : tx.exec_params(upsert, IntArray(accounts), IntArray(deltas))) {
        result.balances.push_back(ReadBalance(r));
      }
    } catch (const pqxx::data_exception& e) {
      data_error = e.what();  // SQLSTATE class 22: the same entries would fail again
      throw;
    }
  });
  if (!data_error.empty()) return absl::InvalidArgumentError(absl::StrCat("postgres: ", data_error));
  if (!st.ok()) return st;
  return result;
}

absl::StatusOr<TopUpResult> PgLedgerStore::TopUp(const TopUpEntry& entry) {
  TopUpResult result;
  absl::Status conflict;
  const std::string entry_key = "topup:" + entry.reference;
  const EntryKind kind = entry.amount_micros < 0 ? EntryKind::kAdjustment : EntryKind::kTopUp;
  absl::Status st = TransactWithRetry([&](pqxx::work& tx) {
    conflict = absl::OkStatus();
    auto ins =
        tx.exec_params(absl::StrCat("INSERT INTO ", schema_,
                                    ".ledger (entry_key, kind, account_id, amount_micros, note, occurred_at) "
                                    "VALUES ($1, $2, $3, $4, $5, ",
                                    MicrosToTs("$6"), ") ON CONFLICT (entry_key) DO NOTHING RETURNING id"),
                       entry_key, static_cast<int>(kind), entry.account_id, entry.amount_micros, entry.note,
                       absl::ToUnixMicros(entry.occurred_at));
    result.applied = !ins.empty();
    if (result.applied) {
      result.balance = ReadBalance(tx.exec_params1(
          absl::StrCat("INSERT INTO ", schema_,
                       ".balances AS b (account_id, balance_micros, version) VALUES ($1, $2, 1) "
                       "ON CONFLICT (account_id) DO UPDATE SET balance_micros = b.balance_micros + "
                       "EXCLUDED.balance_micros, version = b.version + 1, updated_at = now() "
                       "RETURNING account_id, balance_micros, version"),
          entry.account_id, entry.amount_micros));
      return;
    }
    auto prior = tx.exec_params1(
        absl::StrCat("SELECT account_id, amount_micros FROM ", schema_, ".ledger WHERE entry_key = $1"),
        entry_key);
    if (prior[0].as<int64_t>() != entry.account_id || prior[1].as<int64_t>() != entry.amount_micros) {
      conflict = absl::AlreadyExistsError(absl::StrCat(
          "top-up reference ", entry.reference, " was already used for a different account or amount"));
      return;
    }
    auto bal = tx.exec_params(absl::StrCat("SELECT account_id, balance_micros, version FROM ", schema_,
                                           ".balances WHERE account_id = $1"),
                              entry.account_id);
    result.balance = bal.empty() ? BalanceSnapshot{entry.account_id, 0, 0} : ReadBalance(bal[0]);
  });
  if (!st.ok()) return st;
  if (!conflict.ok()) return conflict;
  return result;
}

absl::StatusOr<UsageReport> PgLedgerStore::GetUsage(int64_t account_id, absl::Time from, absl::Time to,
                                                    int limit) {
  UsageReport report;
  // Both queries range over ledger(account_id, occurred_at), the index made for them.
  const std::string where =
      absl::StrCat(" FROM ", schema_, ".ledger WHERE account_id = $1 AND occurred_at >= ", MicrosToTs("$2"),
                   " AND occurred_at < ", MicrosToTs("$3"), " AND kind = 1");
  absl::Status st = pool_->Run([&](pqxx::connection& c) {
    // One snapshot for both, so the records and the buckets agree.
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec_params(
             absl::StrCat(
                 "SELECT request_id, model, key_id, prompt_tokens, cached_tokens, cache_write_tokens, "
                 "completion_tokens, reasoning_tokens, calls, -amount_micros, ",
                 kTsToMicros, where, " ORDER BY occurred_at DESC, id DESC LIMIT $4"),
             account_id, absl::ToUnixMicros(from), absl::ToUnixMicros(to), limit)) {
      UsageRecord u;
      u.request_id = r[0].as<std::string>();
      u.model = r[1].as<std::string>();
      u.key_id = r[2].as<int64_t>();
      u.prompt_tokens = r[3].as<int64_t>();
      u.cached_tokens = r[4].as<int64_t>();
      u.cache_write_tokens = r[5].as<int64_t>();
      u.completion_tokens = r[6].as<int64_t>();
      u.reasoning_tokens = r[7].as<int64_t>();
      u.calls = r[8].as<int64_t>();
      u.charge_micros = r[9].as<int64_t>();
      u.occurred_at = absl::FromUnixMicros(r[10].as<int64_t>());
      report.records.push_back(std::move(u));
    }
    for (const auto& r : tx.exec_params(
             absl::StrCat(
                 "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), model, count(*), "
                 "sum(prompt_tokens)::bigint, sum(cached_tokens)::bigint, sum(cache_write_tokens)::bigint, "
                 "sum(completion_tokens)::bigint, sum(reasoning_tokens)::bigint, sum(calls)::bigint, "
                 "sum(-amount_micros)::bigint",
                 where, " GROUP BY 1, 2 ORDER BY 1, 2"),
             account_id, absl::ToUnixMicros(from), absl::ToUnixMicros(to))) {
      UsageBucket b;
      b.day = r[0].as<std::string>();
      b.model = r[1].as<std::string>();
      b.requests = r[2].as<int64_t>();
      b.prompt_tokens = r[3].as<int64_t>();
      b.cached_tokens = r[4].as<int64_t>();
      b.cache_write_tokens = r[5].as<int64_t>();
      b.completion_tokens = r[6].as<int64_t>();
      b.reasoning_tokens = r[7].as<int64_t>();
      b.calls = r[8].as<int64_t>();
      b.charge_micros = r[9].as<int64_t>();
      report.buckets.push_back(std::move(b));
    }
  });
  if (!st.ok()) return st;
  return report;
}

}  // namespace routeall::billing
