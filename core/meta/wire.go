package meta

import "encoding/json"

// The wire types mirror the provider's JSON. Parse decodes into them and
// the builder encodes from them, so both sides share one description of the
// format. Only the fields this package reads are listed; the decoder skips
// the rest, which keeps Parse working when the provider adds fields.

// businessAccountObject is the envelope object of WhatsApp Business
// Account notifications.
const businessAccountObject = "whatsapp_business_account"

type wireEnvelope struct {
	Object string      `json:"object"`
	Entry  []wireEntry `json:"entry"`
}

type wireEntry struct {
	ID      string       `json:"id"`
	Changes []wireChange `json:"changes"`
}

type wireChange struct {
	Value wireValue `json:"value"`
	Field string    `json:"field"`
}

type wireValue struct {
	MessagingProduct string        `json:"messaging_product"`
	Metadata         wireMetadata  `json:"metadata"`
	Contacts         []wireContact `json:"contacts,omitempty"`
	Messages         []wireMessage `json:"messages,omitempty"`
	Statuses         []wireStatus  `json:"statuses,omitempty"`
	Errors           []wireError   `json:"errors,omitempty"`
}

type wireMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type wireContact struct {
	Profile wireProfile `json:"profile"`
	WaID    string      `json:"wa_id"`
}

type wireProfile struct {
	Name string `json:"name"`
}

type wireError struct {
	Code    int    `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
}

type wireStatus struct {
	ID          string      `json:"id"`
	Status      string      `json:"status"`
	Timestamp   string      `json:"timestamp"`
	RecipientID string      `json:"recipient_id"`
	Errors      []wireError `json:"errors,omitempty"`
}

// wireMessage holds every message type's payload; the type field says
// which one is set.
type wireMessage struct {
	From        string           `json:"from"`
	ID          string           `json:"id"`
	Timestamp   string           `json:"timestamp"`
	Type        string           `json:"type"`
	Context     *wireContext     `json:"context,omitempty"`
	Errors      []wireError      `json:"errors,omitempty"`
	Text        *wireText        `json:"text,omitempty"`
	Image       *wireMedia       `json:"image,omitempty"`
	Video       *wireMedia       `json:"video,omitempty"`
	Audio       *wireMedia       `json:"audio,omitempty"`
	Document    *wireMedia       `json:"document,omitempty"`
	Sticker     *wireMedia       `json:"sticker,omitempty"`
	Contacts    []wireCard       `json:"contacts,omitempty"`
	Reaction    *wireReaction    `json:"reaction,omitempty"`
	Location    *wireLocation    `json:"location,omitempty"`
	Interactive *wireInteractive `json:"interactive,omitempty"`
	Button      *wireButton      `json:"button,omitempty"`
	Order       *wireOrder       `json:"order,omitempty"`
	System      *wireSystem      `json:"system,omitempty"`
}

type wireContext struct {
	From string `json:"from"`
	ID   string `json:"id"`
}

type wireText struct {
	Body string `json:"body"`
}

type wireMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type wireCard struct {
	Name wireCardName `json:"name"`
}

type wireCardName struct {
	FormattedName string `json:"formatted_name"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
}

type wireReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

type wireLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
}

type wireInteractive struct {
	Type        string     `json:"type"`
	ButtonReply *wireReply `json:"button_reply"`
	ListReply   *wireReply `json:"list_reply"`
}

type wireReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type wireButton struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

// wireOrder keeps the product rows undecoded: only their number is read,
// so a change in how a row spells its price cannot fail the whole body.
type wireOrder struct {
	CatalogID    string            `json:"catalog_id"`
	Text         string            `json:"text"`
	ProductItems []json.RawMessage `json:"product_items"`
}

type wireSystem struct {
	Body string `json:"body"`
	Type string `json:"type"`
}
