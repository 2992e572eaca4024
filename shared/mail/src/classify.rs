//! Auto-reply, bounce and forwarding-confirmation detection.
