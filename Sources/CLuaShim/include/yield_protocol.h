// The Lua <-> Swift yield protocol, named once for both sides.
//
// A VU is a coroutine. It talks to the engine only by `coroutine.yield(...)` (a "frame") and the engine
// answers only by `lua_resume(...)` (a "reply"). Swift reads frames and pushes replies with these
// constants; the prelude gets the same numbers from the registry table `luaload.protocol`
// (ll_newstate fills it from this file), and a Lua-level test checks every frame it yields against them.
#ifndef YIELD_PROTOCOL_H
#define YIELD_PROTOCOL_H

// Operations: slot LL_SLOT_OP of every frame.
enum {
    LL_OP_HTTP = 1,     // send a request; the reply is LL_REPLY_*
    LL_OP_SLEEP = 2,    // sleep(s): suspend for LL_SLOT_SECONDS
    LL_OP_WAIT = 3,     // the wait between two task runs (the stop may park the VU here)
    LL_OP_ERROR = 4,    // a script error to record; resume at once with no values
    LL_OP_STOPPED = 5,  // the coroutine returned (not a yield): the VU ends
    LL_OP_IDLE = 6,     // open model: on_start or a task run ended; park the VU until an arrival
                        // (resumed with no values, it runs one task run)
    LL_OP_RAW = 7,          // `luaload wrk`: send raw bytes holding N pipelined requests (N counted by the
                            // engine); the reply carries every response at once (LL_RAW_REPLY_*)
    LL_OP_THREAD_STOP = 8,  // `luaload wrk`: thread:stop(): this worker stops (in-flight requests abandoned)
    LL_OP_BATCH = 9,        // http.batch: N requests at once (streams of one HTTP/2 connection, or HTTP/1.1
                            // connections); the reply is N groups of LL_REPLY_COUNT values in entry order, a nil
                            // status for an entry the engine did not run (another endpoint, no connection free):
                            // the prelude sends those itself
    // New ops take the next free number here (10 upward), with their slots below.
};

// Frame slots, 1-based positions among the yielded (or returned) values.
// Every frame: op, outcome, finished.
//   outcome settles the VU's previous response: nil or false (default rule), true (res:success()) or a
//   message. (The prelude keeps `false` in its context fields: a field set to nil and back costs a rehash.)
//   finished counts the task runs completed since the last frame.
enum {
    LL_SLOT_OP = 1,
    LL_SLOT_OUTCOME = 2,
    LL_SLOT_FINISHED = 3,
    // LL_OP_HTTP
    LL_SLOT_STAT = 4,        // stats row id (per Lua state), learned with its first request (a tagged row's tags
                             // "k:v,k2:v2" are the prelude's luaload.row_tags[id]: its frames are plain ones)
    LL_SLOT_METHOD = 5,      // "GET", ...
    LL_SLOT_URL = 6,         // "/path?query" or "http(s)://host[:port]/path?query"
    LL_SLOT_HEADERS = 7,     // "Name: value\r\n..." or nil
    LL_SLOT_BODY = 8,        // string or nil
    LL_SLOT_TIMEOUT = 9,     // seconds or nil (the run's --timeout)
    LL_SLOT_NAME = 10,       // the stats row's name
    LL_HTTP_FRAME_SIZE = 10, // a request's frame; a redirect hop's has one more value:
    LL_SLOT_FOLLOWS = 11,    // true: a redirect hop of the previous request (counted as a redirect, its time carried);
                             // a number: a hop of an http.batch entry whose redirect the batch counted, the ms
                             // its chain took so far (carried; the previous response is settled as usual)
    // LL_OP_SLEEP, LL_OP_WAIT
    LL_SLOT_SECONDS = 4,
    // LL_OP_ERROR
    LL_SLOT_MESSAGE = 4,
    LL_SLOT_TRACEBACK = 5,
    // LL_OP_STOPPED of setup(): its result as JSON, or why it failed
    LL_SLOT_SETUP_JSON = 4,
    LL_SLOT_SETUP_FAILURE = 5,
    // LL_OP_RAW
    LL_SLOT_RAW_BYTES = 4,   // the request bytes (a string the coroutine keeps alive until the reply)
    LL_SLOT_RAW_WANT = 5,    // true: the script has response(): reply with each response's status, head, body
    LL_SLOT_RAW_REPEAT = 6,  // true: a static request, no response() or delay(): the engine resends the same
                             // bytes after each batch itself and resumes the coroutine only after a failure
    // LL_OP_BATCH: the number of entries N, then entry k's values (k from 0) from
    // LL_SLOT_BATCH_FIRST + k * LL_BATCH_STRIDE, in LL_SLOT_STAT..LL_SLOT_BATCH_REDIRECTS's order (stat, method,
    // url, headers, body, timeout, name, follows, redirects): field F of entry k is at
    // LL_SLOT_BATCH_FIRST + k * STRIDE + (F - LL_SLOT_STAT). An entry's FOLLOWS is false or the ms its redirect
    // chain took so far (a hop); and:
    LL_SLOT_BATCH_REDIRECTS = 12,  // true: a redirect response (with a Location) is a hop the prelude follows,
                                   // counted as a redirect; a string: such a response is recorded as failed with
                                   // this message (too many redirects); false: recorded as it is
    LL_SLOT_BATCH_COUNT = 4,
    LL_SLOT_BATCH_FIRST = 5,
    LL_BATCH_STRIDE = 9,
    LL_BATCH_MAX = 1000,     // entries of one batch at most (the frame and its reply stay within Lua's stack)
};

// The reply to LL_OP_RAW: per response received, in order, these three values (none when not wanted).
// After a failure the reply holds the responses that came before it; the failed ones are counted by the engine.
enum {
    LL_RAW_REPLY_STATUS = 1,  // HTTP status
    LL_RAW_REPLY_HEAD = 2,    // the raw response head ("HTTP/1.1 200 OK\r\nName: value\r\n...")
    LL_RAW_REPLY_BODY = 3,    // the body ("" when none)
    LL_RAW_REPLY_STRIDE = 3,
};

// The reply to LL_OP_HTTP: the values lua_resume passes back, in this order.
enum {
    LL_REPLY_STATUS = 1,     // HTTP status, 0 when no response came
    LL_REPLY_ELAPSED = 2,    // ms
    LL_REPLY_BODY = 3,       // string ("" when none)
    LL_REPLY_ERROR = 4,      // transport error text or nil
    LL_REPLY_HEADERS = 5,    // the raw response head or nil
    LL_REPLY_FLAGS = 6,      // what the head asks of the client: LL_FLAG_* bits
    LL_REPLY_COUNT = 6,
};

// LL_REPLY_FLAGS bits.
enum {
    LL_FLAG_SET_COOKIE = 1,  // the head has a Set-Cookie header
    LL_FLAG_REDIRECT = 2,    // the status is 301, 302, 303, 307 or 308
};
#endif
