package meta

import (
	"fmt"
	"strconv"
	"strings"
)

// Content types of the parts Parse produces. Media parts use the message
// type itself: image, video, audio, document or sticker.
const (
	contentText        = "text"
	contentContact     = "contact"
	contentReaction    = "reaction"
	contentLocation    = "location"
	contentInteractive = "interactive"
	contentButton      = "button"
	contentOrder       = "order"
	contentSystem      = "system"
	contentUnsupported = "unsupported"
)

// fillParts sets the parts of m from its type's payload, and the media
// and reply target that some types carry. It always leaves at least one
// part: a payload that is absent gives an empty one.
func fillParts(m *Message, wm wireMessage) {
	if isMediaType(wm.Type) {
		media := mediaOf(wm)
		m.Media = readMedia(media)
		m.Parts = onePart(wm.Type, mediaContent(media))
		return
	}

	switch wm.Type {
	case "text":
		m.Parts = onePart(contentText, textBody(wm.Text))
	case "contacts":
		m.Parts = cardParts(wm.Contacts)
	case "reaction":
		m.Parts = onePart(contentReaction, reactionEmoji(wm.Reaction))
		if wm.Reaction != nil {
			m.ReplyTo = wm.Reaction.MessageID
		}
	case "location":
		m.Parts = onePart(contentLocation, locationText(wm.Location))
	case "interactive":
		m.Parts = onePart(contentInteractive, replyTitle(wm.Interactive))
	case "button":
		m.Parts = onePart(contentButton, buttonText(wm.Button))
	case "order":
		m.Parts = onePart(contentOrder, orderText(wm.Order))
	case "system":
		m.Parts = onePart(contentSystem, systemBody(wm.System))
	default:
		// Unsupported and unknown types keep no content; the provider
		// explains why in the message's errors.
		m.Parts = onePart(contentUnsupported, "")
	}
}

func onePart(contentType, content string) []Part {
	return []Part{{Index: 0, Content: content, ContentType: contentType}}
}

func isMediaType(typ string) bool {
	switch typ {
	case "image", "video", "audio", "document", "sticker":
		return true
	}
	return false
}

// mediaOf returns the attachment that matches the message type, nil when
// the payload is absent.
func mediaOf(wm wireMessage) *wireMedia {
	switch wm.Type {
	case "image":
		return wm.Image
	case "video":
		return wm.Video
	case "audio":
		return wm.Audio
	case "document":
		return wm.Document
	case "sticker":
		return wm.Sticker
	}
	return nil
}

func readMedia(wm *wireMedia) *Media {
	if wm == nil {
		return nil
	}
	return &Media{
		ID:       wm.ID,
		MimeType: wm.MimeType,
		SHA256:   wm.SHA256,
		Caption:  wm.Caption,
		Filename: wm.Filename,
	}
}

// mediaContent is the caption, or for an uncaptioned document its file
// name.
func mediaContent(wm *wireMedia) string {
	if wm == nil {
		return ""
	}
	if wm.Caption != "" {
		return wm.Caption
	}
	return wm.Filename
}

// cardParts gives one part per shared contact card, all of one message.
func cardParts(cards []wireCard) []Part {
	if len(cards) == 0 {
		return onePart(contentContact, "")
	}
	parts := make([]Part, len(cards))
	for i, c := range cards {
		name := c.Name.FormattedName
		if name == "" {
			name = strings.TrimSpace(c.Name.FirstName + " " + c.Name.LastName)
		}
		parts[i] = Part{Index: i, Content: name, ContentType: contentContact}
	}
	return parts
}

func textBody(t *wireText) string {
	if t == nil {
		return ""
	}
	return t.Body
}

// reactionEmoji is the emoji; an empty one means the sender removed an
// earlier reaction.
func reactionEmoji(r *wireReaction) string {
	if r == nil {
		return ""
	}
	return r.Emoji
}

// locationText reads as "Name, Address (lat, long)", leaving out the
// parts the sender did not share.
func locationText(l *wireLocation) string {
	if l == nil {
		return ""
	}
	coords := strconv.FormatFloat(l.Latitude, 'f', -1, 64) + ", " +
		strconv.FormatFloat(l.Longitude, 'f', -1, 64)

	var label []string
	for _, s := range []string{l.Name, l.Address} {
		if s != "" {
			label = append(label, s)
		}
	}
	if len(label) == 0 {
		return coords
	}
	return strings.Join(label, ", ") + " (" + coords + ")"
}

// replyTitle is the title of the button or list row the user picked.
func replyTitle(in *wireInteractive) string {
	switch {
	case in == nil:
		return ""
	case in.ButtonReply != nil:
		return in.ButtonReply.Title
	case in.ListReply != nil:
		return in.ListReply.Title
	}
	return ""
}

// buttonText is the label of a quick-reply button, falling back to its
// payload.
func buttonText(b *wireButton) string {
	switch {
	case b == nil:
		return ""
	case b.Text != "":
		return b.Text
	}
	return b.Payload
}

// orderText is the note the buyer wrote, or else a count of the products.
func orderText(o *wireOrder) string {
	switch {
	case o == nil:
		return ""
	case o.Text != "":
		return o.Text
	case len(o.ProductItems) == 1:
		return "Order of 1 product"
	}
	return fmt.Sprintf("Order of %d products", len(o.ProductItems))
}

func systemBody(s *wireSystem) string {
	if s == nil {
		return ""
	}
	return s.Body
}
