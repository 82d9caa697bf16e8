// eddy/nats/detail/libnats.hpp - the only header that includes libnats: a connection with its
// JetStream context (stream and consumer administration, async publish with acknowledgements
// handed to waiting coroutines, acknowledgements as requests, stored-message reads, the
// dead-letter marks bucket) and a pull subscription bound to a durable consumer. Everything
// leaves here as plain C++ values; every failure as eddy::nats_error.
#pragma once

#include <algorithm>     // std::min
#include <chrono>        // std::chrono::milliseconds, std::chrono::nanoseconds, steady_clock
#include <coroutine>     // std::coroutine_handle
#include <cstdint>       // std::uint64_t, std::int64_t
#include <cstdlib>       // std::free
#include <memory>        // std::unique_ptr
#include <mutex>         // std::mutex, std::lock_guard
#include <optional>      // std::optional
#include <string>        // std::string
#include <string_view>   // std::string_view
#include <unordered_map> // std::unordered_map
#include <utility>       // std::move
#include <vector>        // std::vector

#include <nats/nats.h>

#include <eddy/bus/headers.hpp>
#include <eddy/nats/nats_bus_options.hpp>
#include <eddy/nats/nats_error.hpp>

namespace eddy::detail {

// Throws the nats_error of a failed call: libnats' status text, its last error text (which
// often says more: the server's message), the JetStream code.
[[noreturn]] inline void nats_throw(const std::string& context, natsStatus s,
                                    jsErrCode js = static_cast<jsErrCode>(0)) {
    natsStatus last = NATS_OK;
    const char* text = nats_GetLastError(&last);
    std::string detail = text != nullptr && last == s ? std::string(text) : std::string();
    // libnats prefixes its source location, "(conn.c:2088): ": not for users.
    if (const std::size_t end = detail.find("): ");
        !detail.empty() && detail[0] == '(' && end != std::string::npos) {
        detail.erase(0, end + 3);
    }
    throw nats_error(context, static_cast<int>(s), natsStatus_GetText(s), static_cast<int>(js),
                     detail);
}

inline void nats_check(natsStatus s, const std::string& context,
                       jsErrCode js = static_cast<jsErrCode>(0)) {
    if (s != NATS_OK) {
        nats_throw(context, s, js);
    }
}

// A message read from JetStream (delivered to a consumer, or read by sequence), copied out of
// libnats. `headers` are as on the wire (escaped values; Nats-* and eddy's own included).
struct nats_received {
    std::string subject;
    std::string reply; // the acknowledgement subject of a delivery; empty for a stored read
    std::string data;
    eddy::headers headers;
    std::uint64_t stream_sequence = 0;
    std::uint64_t delivered = 1; // deliveries of it to its consumer so far (this one included)
    std::int64_t time_ns = 0;    // when the stream stored it, ns since the Unix epoch (UTC)
};

// A message to publish; `headers` already escaped.
struct nats_outgoing {
    std::string subject;
    eddy::headers headers;
    std::string data;
    std::string msg_id; // Nats-Msg-Id, empty for none
};

// The state of one stream.
struct nats_stream_state {
    bool exists = false;
    std::string description;
    std::uint64_t first_sequence = 0;
    std::uint64_t last_sequence = 0;
};

// What eddy asks of a stream it creates.
struct nats_stream_spec {
    std::string name;
    std::string subjects; // "<prefix>.<topic>.<partition>.>"
    std::string description;
    std::int64_t max_msgs = -1;  // -1: no limit
    std::int64_t max_age_ns = 0; // 0: no limit
};

// The state of one durable consumer.
struct nats_consumer_state {
    bool exists = false;
    std::uint64_t pending = 0;     // stored after its delivered position: not delivered yet
    std::uint64_t ack_pending = 0; // delivered, not acknowledged (or negatively: redelivery due)
};

// An async publish waiting for the server's acknowledgement: lives in the frame of the
// coroutine that awaits it; the acknowledgement handler (a libnats thread) fills it in and
// queues it for resume_completed, which resumes that coroutine; then it must not be touched.
struct nats_publish_wait {
    std::coroutine_handle<> waiter;
    std::uint64_t sequence = 0;
    bool duplicate = false;
    natsStatus status = NATS_OK;
    int js_code = 0;
    std::string error_text;
};

class nats_client {
public:
    // Acknowledgements of async publishes come in bursts on libnats' thread: rather than each
    // waiter hopping to its scheduler on its own (a thread wake-up per publish), they queue
    // here and `post(context)` is called once when the queue turns non-empty; what it starts on
    // the scheduler calls resume_completed(), which resumes the whole burst there.
    nats_client(const nats_bus_options& o, void (*post)(void*), void* context)
        : m_options(o), m_post_completed(post), m_post_context(context) {
        natsOptions* opts = nullptr;
        nats_check(natsOptions_Create(&opts), "creating connection options");
        std::unique_ptr<natsOptions, void (*)(natsOptions*)> guard(opts, natsOptions_Destroy);
        std::vector<std::string> urls;
        for (const std::string& u : o.urls) { // an entry may be a comma-separated list
            std::size_t start = 0;
            while (start <= u.size()) {
                const std::size_t comma = std::min(u.find(',', start), u.size());
                if (comma > start) {
                    urls.push_back(u.substr(start, comma - start));
                }
                start = comma + 1;
            }
        }
        std::vector<const char*> servers;
        servers.reserve(urls.size());
        for (const std::string& u : urls) {
            servers.push_back(u.c_str());
        }
        nats_check(natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size())),
                   "setting the server URLs");
        nats_check(natsOptions_SetNoRandomize(opts, true), "setting the server order");
        nats_check(natsOptions_SetName(opts, o.name.c_str()), "setting the connection name");
        nats_check(natsOptions_SetTimeout(opts, o.request_timeout.count()),
                   "setting the connect timeout");
        // Requests fail at once while disconnected (a clear error, not a timeout); libnats
        // keeps reconnecting meanwhile, to any server of the cluster.
        nats_check(natsOptions_SetFailRequestsOnDisconnect(opts, true), "setting fail-fast");
        nats_check(natsOptions_SetMaxReconnect(opts, -1), "setting reconnects");
        nats_check(natsOptions_SetSendAsap(opts, o.send_asap), "setting send-asap");
        const std::string where = "connecting to " + join(urls);
        nats_check(natsConnection_Connect(&m_conn, opts), where);
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = o.request_timeout.count();
        jo.PublishAsync.AckHandler = &nats_client::on_publish_ack;
        jo.PublishAsync.AckHandlerClosure = this;
        // eddy's own semaphore keeps publishes below this, so libnats never stalls a thread.
        jo.PublishAsync.MaxPending = static_cast<int64_t>(o.max_pending_publishes) + 1;
        const natsStatus s = natsConnection_JetStream(&m_js, m_conn, &jo);
        if (s != NATS_OK) {
            natsConnection_Destroy(m_conn);
            nats_throw("creating the JetStream context", s);
        }
    }
    nats_client(const nats_client&) = delete;
    nats_client& operator=(const nats_client&) = delete;
    ~nats_client() {
        if (m_marks != nullptr) {
            kvStore_Destroy(m_marks);
        }
        jsCtx_Destroy(m_js);
        natsConnection_Close(m_conn);
        natsConnection_Destroy(m_conn);
    }

    [[nodiscard]] natsConnection* connection() const noexcept { return m_conn; }
    [[nodiscard]] jsCtx* jetstream() const noexcept { return m_js; }
    [[nodiscard]] const nats_bus_options& options() const noexcept { return m_options; }

    // JetStream leaves an info request unanswered while the stream or consumer has no leader
    // (just created by another client, or electing one after a node's loss): asks again every
    // second until `request_timeout`, rather than once for all of it.
    template <class Request>
    [[nodiscard]] natsStatus ask_until_answered(Request request) const {
        const auto total = m_options.request_timeout;
        const auto each = std::min(total, std::chrono::milliseconds(std::chrono::seconds(1)));
        const auto deadline = std::chrono::steady_clock::now() + total;
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = each.count();
        for (;;) {
            const natsStatus s = request(&jo);
            if (s != NATS_TIMEOUT || std::chrono::steady_clock::now() + each > deadline) {
                return s;
            }
        }
    }

    // ----- streams -----

    [[nodiscard]] nats_stream_state stream_info(const std::string& name) const {
        jsStreamInfo* si = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = ask_until_answered(
            [&](jsOptions* jo) { return js_GetStreamInfo(&si, m_js, name.c_str(), jo, &jerr); });
        if (s == NATS_NOT_FOUND) {
            return {};
        }
        nats_check(s, "reading stream '" + name + "'", jerr);
        nats_stream_state out;
        out.exists = true;
        if (si->Config != nullptr && si->Config->Description != nullptr) {
            out.description = si->Config->Description;
        }
        out.first_sequence = si->State.FirstSeq;
        out.last_sequence = si->State.LastSeq;
        jsStreamInfo_Destroy(si);
        return out;
    }

    void add_stream(const nats_stream_spec& spec) const {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = spec.name.c_str();
        cfg.Description = spec.description.c_str();
        const char* subjects[] = {spec.subjects.c_str()};
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Retention =
            m_options.retention == nats_retention::interest ? js_InterestPolicy : js_LimitsPolicy;
        cfg.Storage = m_options.storage == nats_storage::memory ? js_MemoryStorage : js_FileStorage;
        cfg.Replicas = m_options.replicas;
        cfg.MaxMsgs = spec.max_msgs;
        cfg.MaxAge = spec.max_age_ns;
        cfg.Discard = js_DiscardOld;
        cfg.Duplicates =
            std::chrono::duration_cast<std::chrono::nanoseconds>(m_options.duplicate_window)
                .count();
        jsStreamInfo* si = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = js_AddStream(&si, m_js, &cfg, nullptr, &jerr);
        if (si != nullptr) {
            jsStreamInfo_Destroy(si);
        }
        nats_check(s, "creating stream '" + spec.name + "'", jerr);
    }

    // Names of the streams whose name starts with `prefix`.
    [[nodiscard]] std::vector<std::string> stream_names(const std::string& prefix) const {
        jsStreamNamesList* list = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = js_StreamNames(&list, m_js, nullptr, &jerr);
        std::vector<std::string> out;
        if (s == NATS_NOT_FOUND) {
            return out; // no stream at all
        }
        nats_check(s, "listing streams", jerr);
        for (int i = 0; i < list->Count; ++i) {
            std::string_view n(list->List[i]);
            if (n.substr(0, prefix.size()) == prefix) {
                out.emplace_back(n);
            }
        }
        jsStreamNamesList_Destroy(list);
        return out;
    }

    // ----- consumers -----

    [[nodiscard]] nats_consumer_state consumer_info(const std::string& stream,
                                                    const std::string& durable) const {
        jsConsumerInfo* ci = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = ask_until_answered([&](jsOptions* jo) {
            return js_GetConsumerInfo(&ci, m_js, stream.c_str(), durable.c_str(), jo, &jerr);
        });
        if (s == NATS_NOT_FOUND) {
            return {};
        }
        nats_check(s, "reading consumer '" + durable + "' of stream '" + stream + "'", jerr);
        nats_consumer_state out{true, ci->NumPending,
                                static_cast<std::uint64_t>(ci->NumAckPending)};
        jsConsumerInfo_Destroy(ci);
        return out;
    }

    // Creates durable pull consumer `durable` of `stream` unless it exists: explicit acks, one
    // record in flight (MaxAckPending 1: the order of the partition holds across redeliveries
    // and members), no delivery limit (eddy counts attempts and dead-letters).
    void ensure_consumer(const std::string& stream, const std::string& durable,
                         const std::string& filter, bool deliver_new) const {
        if (consumer_info(stream, durable).exists) {
            return;
        }
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = durable.c_str();
        cc.AckPolicy = js_AckExplicit;
        cc.DeliverPolicy = deliver_new ? js_DeliverNew : js_DeliverAll;
        cc.AckWait =
            std::chrono::duration_cast<std::chrono::nanoseconds>(m_options.ack_wait).count();
        cc.MaxAckPending = 1;
        cc.MaxDeliver = -1;
        cc.FilterSubject = filter.c_str();
        jsConsumerInfo* ci = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = js_AddConsumer(&ci, m_js, stream.c_str(), &cc, nullptr, &jerr);
        if (ci != nullptr) {
            jsConsumerInfo_Destroy(ci);
        }
        if (s != NATS_OK && consumer_info(stream, durable).exists) {
            return; // another member created it meanwhile (with its own start position)
        }
        nats_check(s, "creating consumer '" + durable + "' of stream '" + stream + "'", jerr);
    }

    // ----- messages -----

    // The message `sequence` of `stream`, or empty when there is none (deleted, dropped).
    [[nodiscard]] std::optional<nats_received> get_message(const std::string& stream,
                                                           std::uint64_t sequence) const {
        natsMsg* msg = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = js_GetMsg(&msg, m_js, stream.c_str(), sequence, nullptr, &jerr);
        if (s == NATS_NOT_FOUND) {
            return std::nullopt;
        }
        nats_check(s, "reading message " + std::to_string(sequence) + " of stream '" + stream + "'",
                   jerr);
        nats_received out = copy_out(msg);
        out.stream_sequence = natsMsg_GetSequence(msg);
        out.time_ns = natsMsg_GetTime(msg);
        natsMsg_Destroy(msg);
        return out;
    }

    // Resumes every queued publish waiter, oldest first, on the calling thread. Touches nothing
    // of the client after the first resume (a waiter may end the client's owner's last task).
    void resume_completed() {
        std::vector<nats_publish_wait*> burst;
        {
            std::lock_guard lock(m_mutex);
            burst.swap(m_completed);
            m_completion_posted = false;
        }
        for (nats_publish_wait* w : burst) {
            w->waiter.resume();
        }
    }

    // Starts an async publish of `m`; `w` is completed by the acknowledgement handler (queued
    // for resume_completed). Throws (and `w` is not completed) when libnats refuses it.
    void publish_async(const nats_outgoing& m, nats_publish_wait* w) {
        natsMsg* msg = make_message(m);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = m_options.request_timeout.count();
        if (!m.msg_id.empty()) {
            po.MsgId = m.msg_id.c_str();
        }
        {
            std::lock_guard lock(m_mutex);
            m_publishes.emplace(msg, w);
        }
        natsMsg* owned = msg;
        const natsStatus s = js_PublishMsgAsync(m_js, &owned, &po);
        if (s != NATS_OK) {
            {
                std::lock_guard lock(m_mutex);
                m_publishes.erase(msg);
            }
            natsMsg_Destroy(owned);
            nats_throw("publishing to '" + m.subject + "'", s);
        }
    }

    // Acknowledges a delivery (`body` "+ACK", "-NAK ...", "+TERM") and waits for the server to
    // confirm it, so what follows (a lag query, the next fetch) sees it.
    void acknowledge(const std::string& reply, std::string_view body) const {
        natsMsg* answer = nullptr;
        const natsStatus s = natsConnection_Request(&answer, m_conn, reply.c_str(), body.data(),
                                                    static_cast<int>(body.size()),
                                                    m_options.request_timeout.count());
        if (answer != nullptr) {
            natsMsg_Destroy(answer);
        }
        nats_check(s, "acknowledging (" + std::string(body) + ") a delivery");
    }

    // The same without waiting (from destructors and cancellation): best effort, the consumer's
    // ack wait redelivers what it misses.
    void acknowledge_async(const std::string& reply, std::string_view body) const noexcept {
        natsConnection_Publish(m_conn, reply.c_str(), body.data(), static_cast<int>(body.size()));
    }

    // ----- dead-letter marks (a key-value bucket; creates are atomic across processes) -----

    [[nodiscard]] std::optional<std::string> mark(const std::string& key) {
        kvStore* kv = marks();
        kvEntry* e = nullptr;
        const natsStatus s = kvStore_Get(&e, kv, key.c_str());
        if (s == NATS_NOT_FOUND) {
            return std::nullopt;
        }
        nats_check(s, "reading dead-letter mark '" + key + "'");
        std::string out(static_cast<const char*>(kvEntry_Value(e)),
                        static_cast<std::size_t>(kvEntry_ValueLen(e)));
        kvEntry_Destroy(e);
        return out;
    }

    // Sets `key` unless it is set; false if it was.
    bool set_mark(const std::string& key, const std::string& value) {
        kvStore* kv = marks();
        std::uint64_t rev = 0;
        const natsStatus s =
            kvStore_Create(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
        if (s == NATS_OK) {
            return true;
        }
        if (mark(key)) {
            return false;
        }
        nats_throw("setting dead-letter mark '" + key + "'", s);
    }

private:
    static std::string join(const std::vector<std::string>& v) {
        std::string out;
        for (const std::string& s : v) {
            out += out.empty() ? s : "," + s;
        }
        return out;
    }

    kvStore* marks() {
        std::lock_guard lock(m_marks_mutex);
        if (m_marks != nullptr) {
            return m_marks;
        }
        const std::string bucket = m_options.prefix + "_dead-letter-marks";
        natsStatus s = js_KeyValue(&m_marks, m_js, bucket.c_str());
        if (s == NATS_NOT_FOUND || s == NATS_ERR) {
            kvConfig cfg;
            kvConfig_Init(&cfg);
            cfg.Bucket = bucket.c_str();
            cfg.History = 1;
            cfg.StorageType =
                m_options.storage == nats_storage::memory ? js_MemoryStorage : js_FileStorage;
            cfg.Replicas = m_options.replicas;
            s = js_CreateKeyValue(&m_marks, m_js, &cfg);
        }
        nats_check(s, "opening the dead-letter marks bucket '" + bucket + "'");
        return m_marks;
    }

    static natsMsg* make_message(const nats_outgoing& m) {
        natsMsg* msg = nullptr;
        nats_check(natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.data.data(),
                                  static_cast<int>(m.data.size())),
                   "creating a message to '" + m.subject + "'");
        for (const auto& [k, v] : m.headers) {
            const natsStatus s = natsMsgHeader_Set(msg, k.c_str(), v.c_str());
            if (s != NATS_OK) {
                natsMsg_Destroy(msg);
                nats_throw("setting header '" + k + "' of a message to '" + m.subject + "'", s);
            }
        }
        return msg;
    }

    static void on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
                               void* closure) {
        auto* self = static_cast<nats_client*>(closure);
        bool post = false;
        nats_publish_wait* w = nullptr;
        {
            std::lock_guard lock(self->m_mutex);
            auto it = self->m_publishes.find(msg);
            if (it != self->m_publishes.end()) {
                w = it->second;
                self->m_publishes.erase(it);
            }
            if (w != nullptr) {
                if (pa != nullptr) {
                    w->sequence = pa->Sequence;
                    w->duplicate = pa->Duplicate;
                } else if (pae != nullptr) {
                    w->status = pae->Err == NATS_OK ? NATS_ERR : pae->Err;
                    w->js_code = static_cast<int>(pae->ErrCode);
                    w->error_text = pae->ErrText != nullptr ? pae->ErrText : "";
                } else {
                    w->status = NATS_ERR;
                }
                self->m_completed.push_back(w);
                post = !self->m_completion_posted;
                self->m_completion_posted = true;
            }
        }
        natsMsg_Destroy(msg);
        if (post) {
            self->m_post_completed(self->m_post_context);
        }
    }

public:
    // Copies a libnats message out (subject, reply, data, headers, delivery count).
    static nats_received copy_out(natsMsg* msg) {
        nats_received out;
        out.subject = natsMsg_GetSubject(msg);
        if (const char* r = natsMsg_GetReply(msg); r != nullptr) {
            out.reply = r;
        }
        if (const char* d = natsMsg_GetData(msg); d != nullptr) {
            out.data.assign(d, static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
        }
        const char** keys = nullptr;
        int count = 0;
        if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
            for (int i = 0; i < count; ++i) {
                const char* value = nullptr;
                if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK) {
                    out.headers.set(keys[i], value != nullptr ? value : "");
                }
            }
            std::free(static_cast<void*>(keys));
        }
        return out;
    }

private:
    nats_bus_options m_options;
    natsConnection* m_conn = nullptr;
    jsCtx* m_js = nullptr;
    std::mutex m_mutex; // guards m_publishes, m_completed, m_completion_posted
    std::unordered_map<natsMsg*, nats_publish_wait*> m_publishes; // awaiting their ack
    std::vector<nats_publish_wait*> m_completed;                  // acknowledged, to resume
    bool m_completion_posted = false; // post called, resume_completed not yet
    void (*m_post_completed)(void*);
    void* m_post_context;
    std::mutex m_marks_mutex; // guards m_marks' creation
    kvStore* m_marks = nullptr;
};

// A pull subscription bound to durable consumer `durable` of `stream`; one thread at a time
// fetches (the fetch thread of a member). Destroying it removes the interest, never the
// consumer (eddy created it; the group's position stays on the server).
class nats_pull {
public:
    nats_pull(nats_client& c, const std::string& stream, const std::string& durable,
              const std::string& filter)
        : m_where("fetching from consumer '" + durable + "' of stream '" + stream + "'") {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = stream.c_str();
        so.Consumer = durable.c_str();
        so.ManualAck = true;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        nats_check(js_PullSubscribe(&m_sub, c.jetstream(), filter.c_str(), durable.c_str(), nullptr,
                                    &so, &jerr),
                   "binding to consumer '" + durable + "' of stream '" + stream + "'", jerr);
    }
    nats_pull(const nats_pull&) = delete;
    nats_pull& operator=(const nats_pull&) = delete;
    ~nats_pull() { natsSubscription_Destroy(m_sub); }

    // One record, waiting up to `wait`; empty when none came in time. Blocks the thread.
    [[nodiscard]] std::optional<nats_received> fetch(std::chrono::milliseconds wait) {
        natsMsgList list{nullptr, 0};
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = natsSubscription_Fetch(&list, m_sub, 1, wait.count(), &jerr);
        if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
            natsMsgList_Destroy(&list);
            return std::nullopt;
        }
        if (s != NATS_OK) {
            natsMsgList_Destroy(&list);
            nats_throw(m_where, s, jerr);
        }
        natsMsg* msg = list.Msgs[0];
        nats_received out = nats_client::copy_out(msg);
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
            out.stream_sequence = meta->Sequence.Stream;
            out.delivered = meta->NumDelivered;
            out.time_ns = meta->Timestamp;
            jsMsgMetaData_Destroy(meta);
        }
        natsMsgList_Destroy(&list);
        return out;
    }

private:
    std::string m_where; // for errors
    natsSubscription* m_sub = nullptr;
};

} // namespace eddy::detail
