package dispatch

import "strconv"

// WebhookID returns the webhook id of the event for a stored message,
// "msg_<inbox id>_<row id>". It follows the stored row, not the provider
// message: the same row always gives the same id, and two rows stored for
// one provider message (a duplicate) give two ids, which is what lets the
// simulator see the duplicate at the subscriber.
func WebhookID(ev Event) string {
	return "msg_" + strconv.FormatInt(ev.Inbox.ID, 10) +
		"_" + strconv.FormatInt(ev.ID, 10)
}
