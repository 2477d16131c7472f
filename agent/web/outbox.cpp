#include "outbox.h"

#include <utility>

namespace netmon::web {

void Outbox::push_snapshot(std::string frame) {
  if (closing_ || frame.empty()) return;
  if (!pending_.empty()) ++dropped_;
  pending_ = std::move(frame);
  if (current_.empty()) advance();
}

void Outbox::push_keepalive(std::string frame) {
  if (closing_ || frame.empty() || !current_.empty() || !pending_.empty() || !control_.empty())
    return;
  current_ = std::move(frame);
  offset_ = 0;
}

void Outbox::push_control(std::string frame, bool final) {
  if (closing_ || frame.empty()) return;
  control_ = std::move(frame);
  if (final) {
    closing_ = true;
    if (!pending_.empty()) {
      ++dropped_;
      pending_.clear();
      pending_.shrink_to_fit();
    }
  }
  if (current_.empty()) advance();
}

std::string_view Outbox::next() const { return std::string_view(current_).substr(offset_); }

void Outbox::consume(std::size_t n) {
  offset_ += n < current_.size() - offset_ ? n : current_.size() - offset_;
  if (offset_ == current_.size()) advance();
}

void Outbox::advance() {
  // Frames are swapped, not copied, and a finished frame's buffer is freed,
  // so an idle client holds nothing.
  std::string().swap(current_);
  offset_ = 0;
  if (!control_.empty()) {
    current_.swap(control_);
  } else if (!pending_.empty()) {
    current_.swap(pending_);
  }
}

std::size_t Outbox::held_bytes() const {
  return current_.capacity() + control_.capacity() + pending_.capacity();
}

}  // namespace netmon::web
