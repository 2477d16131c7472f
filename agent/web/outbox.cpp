#include "outbox.h"

#include <utility>

namespace netmon::web {
namespace {

std::size_t size_of(const Frame& f) { return f ? f->size() : 0; }

}  // namespace

void Outbox::start(std::string head) {
  if (current_ || pending_ || control_ || closing_ || head.empty()) return;
  current_ = make_frame(std::move(head));
  offset_ = 0;
}

void Outbox::push_snapshot(Frame frame) {
  if (closing_ || size_of(frame) == 0) return;
  if (pending_) ++dropped_;
  pending_ = std::move(frame);
  if (!current_) advance();
}

void Outbox::push_keepalive(std::string frame) {
  if (closing_ || frame.empty() || current_ || pending_ || control_) return;
  current_ = make_frame(std::move(frame));
  offset_ = 0;
}

void Outbox::push_control(std::string frame, bool final) {
  if (closing_ || frame.empty()) return;
  control_ = make_frame(std::move(frame));
  if (final) {
    closing_ = true;
    if (pending_) {
      ++dropped_;
      pending_.reset();
    }
  }
  if (!current_) advance();
}

std::string_view Outbox::next() const {
  return current_ ? std::string_view(*current_).substr(offset_) : std::string_view{};
}

void Outbox::consume(std::size_t n) {
  if (!current_) return;
  offset_ += n < current_->size() - offset_ ? n : current_->size() - offset_;
  if (offset_ == current_->size()) advance();
}

void Outbox::advance() {
  // A finished frame is released at once, so an idle client holds nothing.
  current_.reset();
  offset_ = 0;
  if (control_) {
    current_ = std::move(control_);
    control_.reset();
  } else if (pending_) {
    current_ = std::move(pending_);
    pending_.reset();
  }
}

std::size_t Outbox::held_bytes() const {
  return size_of(current_) + size_of(control_) + size_of(pending_);
}

}  // namespace netmon::web
