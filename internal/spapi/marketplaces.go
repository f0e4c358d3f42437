package spapi

// Marketplace is what we know of an Amazon marketplace id: its country, its
// selling region (the SP-API endpoint that serves it) and its currency.
type Marketplace struct {
	Country  string // ISO 3166-1 alpha-2
	Region   string // na, eu, fe
	Currency string // ISO 4217
}

// Marketplaces lists the ids of SP-API's "Marketplace IDs" page. An id not
// listed here is still accepted (Amazon adds marketplaces); it just cannot
// be checked against the region or used to guess a currency.
var Marketplaces = map[string]Marketplace{
	"A2EUQ1WTGCTBG2": {"CA", "na", "CAD"},
	"ATVPDKIKX0DER":  {"US", "na", "USD"},
	"A1AM78C64UM0Y8": {"MX", "na", "MXN"},
	"A2Q3Y263D00KWC": {"BR", "na", "BRL"},
	"A28R8C7NBKEWEA": {"IE", "eu", "EUR"},
	"A1RKKUPIHCS9HS": {"ES", "eu", "EUR"},
	"A1F83G8C2ARO7P": {"GB", "eu", "GBP"},
	"A13V1IB3VIYZZH": {"FR", "eu", "EUR"},
	"AMEN7PMS3EDWL":  {"BE", "eu", "EUR"},
	"A1805IZSGTT6HS": {"NL", "eu", "EUR"},
	"A1PA6795UKMFR9": {"DE", "eu", "EUR"},
	"APJ6JRA9NG5V4":  {"IT", "eu", "EUR"},
	"A2NODRKZP88ZB9": {"SE", "eu", "SEK"},
	"AE08WJ6YKNBMC":  {"ZA", "eu", "ZAR"},
	"A1C3SOZRARQ6R3": {"PL", "eu", "PLN"},
	"ARBP9OOSHTCHU":  {"EG", "eu", "EGP"},
	"A33AVAJ2PDY3EV": {"TR", "eu", "TRY"},
	"A17E79C6D8DWNP": {"SA", "eu", "SAR"},
	"A2VIGQ35RCS4UG": {"AE", "eu", "AED"},
	"A21TJRUUN4KGV":  {"IN", "eu", "INR"},
	"A19VAU5U5O7RUS": {"SG", "fe", "SGD"},
	"A39IBJ37TRP1C6": {"AU", "fe", "AUD"},
	"A1VC38T7YXB528": {"JP", "fe", "JPY"},
}
