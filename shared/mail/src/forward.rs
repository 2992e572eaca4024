//! Who a forwarded message is really from.
