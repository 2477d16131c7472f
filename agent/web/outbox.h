// What one streaming client (/events or /ws) still has to receive. A client
// that reads slower than snapshots are made must not make the agent buffer
// without limit, and must not get a stale backlog when it catches up: it
// gets the newest snapshot. So the outbox holds at most the frame being
// written (which cannot be taken back once its first byte is on the wire)
// and one pending snapshot; a newer snapshot replaces the pending one, and
// the replaced one is counted as dropped.
//
// Snapshot frames are shared (one framed copy per snapshot and transport for
// all clients), so a client costs two references, not two copies; what it
// owns alone is at most one control frame (a WebSocket pong or close, at most
// 129 bytes) and its response head.
//
// Not thread-safe: owned by the server's thread, like the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace netmon::web {

// One frame's bytes, immutable, shared by every client it goes to.
using Frame = std::shared_ptr<const std::string>;

inline Frame make_frame(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

class Outbox {
 public:
  // The response head (SSE's 200, WebSocket's 101): the first bytes, never
  // dropped. Only on a fresh outbox; ignored otherwise.
  void start(std::string head);

  // Queues a snapshot frame (from sse_event or ws_text_frame). Ignored once
  // a final control frame was queued.
  void push_snapshot(Frame frame);
  void push_snapshot(std::string frame) { push_snapshot(make_frame(std::move(frame))); }

  // Queues a keep-alive (an SSE comment, a WebSocket ping): only when
  // nothing else is waiting, since any frame keeps the connection alive just
  // as well.
  void push_keepalive(std::string frame);

  // Queues a WebSocket control frame to go out before the pending snapshot
  // (but after the frame in progress, which must finish first). Only the
  // newest one is kept, which RFC 6455 §5.5.3 allows for pongs. `final`
  // (a close frame) ends the stream: the pending snapshot is dropped and
  // nothing queued after it is sent; closing() turns true.
  void push_control(std::string frame, bool final);

  // The bytes to write next (the unwritten rest of the current frame);
  // empty when there is nothing to send.
  std::string_view next() const;

  // Marks `n` bytes of next() as written (what write()/send() returned).
  void consume(std::size_t n);

  bool empty() const { return next().empty(); }

  // A final control frame was queued. Once also empty(), it has been written
  // and the server should close the connection.
  bool closing() const { return closing_; }

  // Snapshots replaced before they were sent.
  std::uint64_t dropped() const { return dropped_; }

  // Bytes of the frames this outbox refers to (shared ones in full): the
  // most it can keep alive.
  std::size_t held_bytes() const;

 private:
  // Moves the next waiting frame (control first) into current_.
  void advance();

  Frame current_;  // being written
  std::size_t offset_ = 0;
  Frame control_;  // waiting: a pong or the close
  Frame pending_;  // waiting: the newest snapshot
  bool closing_ = false;
  std::uint64_t dropped_ = 0;
};

}  // namespace netmon::web
