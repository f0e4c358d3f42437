package ordercsv

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/csvcell"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
)

// MaxGenerate is the most orders Generate writes in one file (its external
// ids are unique up to there).
const MaxGenerate = 10_000_000

// market is a country orders are shipped to in generated files.
type market struct {
	country, currency string
	// usdMilli is the price of one US dollar in the currency, in thousandths.
	usdMilli int64
	// taxBP is the sales tax added on top of prices, in basis points (0:
	// prices include VAT, as in most of the world).
	taxBP  int64
	phone  string // the country's calling code and a pattern
	names  []string
	places []place
}

type place struct{ city, region, postal, street string }

var markets = []market{
	{"US", "USD", 1000, 888, "+1 212-555-%04d", []string{"Maya Thompson", "James O'Neill", "Sofia Martínez", "Darnell Washington", "Emily Chen", "Nguyễn Văn An"},
		[]place{{"Brooklyn", "NY", "11201", "%d Atlantic Ave"}, {"Austin", "TX", "78701", "%d Congress Ave"}, {"Portland", "OR", "97214", "%d SE Hawthorne Blvd"}, {"Denver", "CO", "80202", "%d Larimer St"}}},
	{"CA", "CAD", 1350, 1300, "+1 416-555-%04d", []string{"Émilie Tremblay", "Liam Macdonald", "Priya Singh"},
		[]place{{"Montréal", "QC", "H2X 1Y4", "%d rue Saint-Denis"}, {"Toronto", "ON", "M5V 2T6", "%d King St W"}, {"Vancouver", "BC", "V6B 1A1", "%d Granville St"}}},
	{"GB", "GBP", 790, 0, "+44 20 7946 %04d", []string{"Siobhán O'Connor", "Oliver Hughes", "Aisha Rahman"},
		[]place{{"London", "", "SW1A 1AA", "%d Whitehall"}, {"Manchester", "", "M1 1AE", "%d Piccadilly"}, {"Edinburgh", "", "EH1 1YZ", "%d Royal Mile"}}},
	{"DE", "EUR", 920, 0, "+49 30 %07d", []string{"Jürgen Groß", "Anna Müller", "Özlem Yılmaz", "Дмитрий Иванов"},
		[]place{{"Dresden", "", "01067", "Prager Straße %d"}, {"Berlin", "", "10115", "Invalidenstraße %d"}, {"München", "", "80331", "Kaufingerstraße %d"}}},
	{"FR", "EUR", 920, 0, "+33 1 %08d", []string{"Zoé Lefèvre", "Benoît Girard", "Chloé Dubois"},
		[]place{{"Paris", "", "75008", "%d rue de Berri"}, {"Lyon", "", "69002", "%d rue de la République"}}},
	{"ES", "EUR", 920, 0, "+34 91 %07d", []string{"Iñigo Martín", "Lucía Fernández"},
		[]place{{"Madrid", "", "28013", "Calle Mayor %d"}, {"Sevilla", "", "41001", "Calle Sierpes %d"}}},
	{"GR", "EUR", 920, 0, "+30 21 %08d", []string{"Νίκος Παπαδόπουλος", "Ελένη Γεωργίου"},
		[]place{{"Αθήνα", "", "105 57", "Ερμού %d"}, {"Θεσσαλονίκη", "", "546 24", "Τσιμισκή %d"}}},
	{"PL", "PLN", 4000, 0, "+48 12 %07d", []string{"Zofia Wójcik", "Łukasz Kowalczyk"},
		[]place{{"Kraków", "", "31-042", "ul. Floriańska %d"}, {"Gdańsk", "", "80-831", "ul. Długa %d"}}},
	{"SE", "SEK", 10500, 0, "+46 8 %08d", []string{"Åsa Lindström", "Björn Sjöberg"},
		[]place{{"Stockholm", "", "111 22", "Drottninggatan %d"}}},
	{"UA", "UAH", 41000, 0, "+380 44 %07d", []string{"Олена Шевченко", "Андрій Коваленко"},
		[]place{{"Київ", "", "01001", "вул. Хрещатик, %d"}}},
	{"JP", "JPY", 150000, 0, "+81 3-%04d-0000", []string{"山田 太郎", "佐藤 花子", "鈴木 一郎"},
		[]place{{"渋谷区", "JP-13", "150-0001", "神宮前%d-1-1"}, {"大阪市北区", "JP-27", "530-0001", "梅田%d-2-2"}}},
	{"KR", "KRW", 1350000, 0, "+82 2-%04d-5678", []string{"김민준", "이서연"},
		[]place{{"서울특별시 강남구", "KR-11", "06236", "테헤란로 %d"}, {"부산광역시 해운대구", "KR-26", "48058", "해운대해변로 %d"}}},
	{"CN", "CNY", 7200, 0, "+86 21 %08d", []string{"王伟", "李娜"},
		[]place{{"上海市", "SH", "200001", "南京东路%d号"}, {"北京市", "BJ", "100010", "王府井大街%d号"}}},
	{"IN", "INR", 83000, 0, "+91 22 %08d", []string{"अनन्या शर्मा", "Rahul Verma", "ராஜேஷ் குமார்"},
		[]place{{"Mumbai", "MH", "400001", "%d Marine Drive"}, {"Chennai", "TN", "600001", "%d Anna Salai"}, {"Bengaluru", "KA", "560001", "%d MG Road"}}},
	{"TH", "THB", 36000, 0, "+66 2 %07d", []string{"สมชาย ใจดี", "มาลี ศรีสุข"},
		[]place{{"กรุงเทพมหานคร", "TH-10", "10200", "%d ถนนราชดำเนิน"}}},
	{"AE", "AED", 3670, 0, "+971 4 %07d", []string{"محمد الأحمد", "فاطمة الزهراء"},
		[]place{{"Dubai", "", "", "Villa %d, Al Wasl Road"}, {"Abu Dhabi", "", "", "Building %d, Corniche Road"}}},
	{"KW", "KWD", 310, 0, "+965 2%07d", []string{"عبدالله الصباح"},
		[]place{{"Kuwait City", "", "15000", "Block 3, Street %d"}}},
	{"IL", "ILS", 3700, 0, "+972 3-%07d", []string{"נועה כהן", "David Levi"},
		[]place{{"תל אביב-יפו", "", "6688218", "רחוב דיזנגוף %d"}}},
	{"BR", "BRL", 5000, 0, "+55 11 %08d", []string{"João Silva", "Ana Conceição"},
		[]place{{"São Paulo", "SP", "01310-100", "Avenida Paulista, %d"}, {"Rio de Janeiro", "RJ", "20040-002", "Rua da Assembleia, %d"}}},
	{"AU", "AUD", 1500, 0, "+61 2 %08d", []string{"Chloe Nguyen", "Jack O'Brien"},
		[]place{{"Sydney", "NSW", "2000", "%d George St"}, {"Melbourne", "VIC", "3000", "%d Collins St"}}},
}

// marketWeights makes the home markets of a typical Western shop the
// busiest.
var marketWeights = []int{30, 6, 10, 10, 6, 4, 2, 3, 2, 2, 5, 2, 2, 4, 1, 2, 1, 1, 3, 4}

var generatedChannels = []struct {
	name   string
	weight int
}{{"shopify", 45}, {"amazon", 20}, {"woocommerce", 15}, {"ebay", 10}, {"ecwid", 5}, {"csv", 5}}

var generatedNotes = []string{
	"Please leave the parcel with a neighbour, thanks!",
	`Gate code "4411" — ring twice`,
	"Gift wrap please\nNo invoice in the box",
	"Bitte beim Nachbarn abgeben, Danke!",
	"置き配希望（玄関前）",
	"-- fragile: glass inside --",
	"=please call before delivery",
}

// Generate writes n realistic orders in Waybill's own layout to w: 1 to 4
// lines each from skus, customers and addresses of twenty countries in
// their own scripts and currencies, from six channels, placed over the 90
// days before today. The same seed writes the same file on the same day.
// Some orders repeat their order fields on every row and some give them
// once, as both are allowed. External ids are unique within a file and
// depend on the seed, so files of different seeds import side by side.
func Generate(w io.Writer, n int, seed int64, skus []string) error {
	const op = "ordercsv.Generate"
	if len(skus) == 0 {
		return errs.E(op, errs.Invalid, "no SKUs to order")
	}
	if n < 0 || n > MaxGenerate {
		return errs.E(op, errs.Invalid, fmt.Sprintf("n must be between 0 and %d", MaxGenerate))
	}
	rng := rand.New(rand.NewSource(seed))
	run := int64(100 + rng.Intn(900)) // in the ids, so that seeds do not collide
	today := time.Now().UTC().Truncate(24 * time.Hour)
	pick := func(weights []int) int {
		sum := 0
		for _, w := range weights {
			sum += w
		}
		x := rng.Intn(sum)
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return len(weights) - 1
	}
	channelWeights := make([]int, len(generatedChannels))
	for i, c := range generatedChannels {
		channelWeights[i] = c.weight
	}
	// A SKU's price is the same in every order (in US cents, x.99).
	priceOf := func(sku string) int64 {
		h := fnv.New32a()
		h.Write([]byte(sku))
		return int64(h.Sum32()%190+5)*100 - 1
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	cw.Write(Columns())
	rec := make([]string, len(waybillOrder))
	col := make(map[field]int, len(waybillOrder))
	for i, f := range waybillOrder {
		col[f] = i
	}
	set := func(f field, v string) { rec[col[f]] = csvcell.Neutralize(v) }

	for i := range n {
		ch := generatedChannels[pick(channelWeights)].name
		m := markets[pick(marketWeights)]
		digits, _ := money.Digits(m.currency)
		// convert turns US cents into the market's minor units, rounded to
		// what prices there look like.
		convert := func(usdCents int64) int64 {
			v := usdCents * m.usdMilli
			scale := int64(100 * 1000)
			for range digits {
				v *= 10
			}
			v = (v + scale/2) / scale
			switch {
			case digits == 0 && v >= 100:
				v = (v + 5) / 10 * 10
			case digits == 3:
				v = (v + 5) / 10 * 10
			}
			return max(v, 1)
		}
		amount := func(v int64) string { return money.Amount{Minor: v, Currency: m.currency}.String() }

		var extID, number string
		switch ch {
		case "shopify":
			extID = strconv.FormatInt(5_000_000_000_000+run*MaxGenerate+int64(i), 10)
			number = "#" + strconv.Itoa(1001+i)
		case "woocommerce", "ecwid":
			extID = strconv.FormatInt(run*MaxGenerate+int64(i), 10)
			number = "#" + extID
		case "amazon":
			extID = fmt.Sprintf("%03d-%07d-%07d", run, rng.Intn(10_000_000), i)
			number = extID
		case "ebay":
			extID = fmt.Sprintf("%02d-%05d-%05d", run%90+10, i/100_000, i%100_000)
			number = extID
		default:
			extID = fmt.Sprintf("CSV-%d-%07d", run, i+1)
		}
		name := m.names[rng.Intn(len(m.names))]
		pl := m.places[rng.Intn(len(m.places))]
		phone := fmt.Sprintf(m.phone, rng.Intn(10_000))
		placed := today.Add(-time.Duration(rng.Int63n(int64(90 * 24 * time.Hour))))

		k := []int{1, 1, 1, 1, 1, 2, 2, 2, 3, 4}[rng.Intn(10)]
		k = min(k, len(skus))
		chosen := make([]string, 0, k)
		for len(chosen) < k {
			s := skus[rng.Intn(len(skus))]
			dup := false
			for _, c := range chosen {
				dup = dup || c == s
			}
			if !dup {
				chosen = append(chosen, s)
			}
		}
		var gross int64
		lines := make([][4]string, k) // sku, quantity, unit price, discount
		taxes := make([]int64, k)
		discounted := rng.Intn(10) == 0
		for j, s := range chosen {
			qty := int64([]int{1, 1, 1, 1, 2, 2, 3}[rng.Intn(7)])
			price := convert(priceOf(s))
			var disc int64
			if discounted && j == 0 {
				disc = qty * price / 10 // 10% off the first line
			}
			net := qty*price - disc
			gross += net
			taxes[j] = (net*m.taxBP + 5000) / 10000
			lines[j] = [4]string{s, strconv.FormatInt(qty, 10), amount(price), ""}
			if disc > 0 {
				lines[j][3] = amount(disc)
			}
		}
		shipTitle, shipCode, shipPrice := "Standard", "standard", convert(595)
		switch r := rng.Intn(10); {
		case gross >= convert(7500):
			shipTitle, shipCode, shipPrice = "Free shipping", "free", 0
		case r < 2:
			shipTitle, shipCode, shipPrice = "Express", "express", convert(1495)
		}
		status := []string{"paid", "paid", "paid", "paid", "paid", "paid", "paid", "paid", "paid", "paid", "paid", "pending", "authorized", "partially_refunded"}[rng.Intn(14)]
		var tags []string
		if rng.Intn(10) == 0 {
			tags = append(tags, "vip")
		}
		if rng.Intn(20) == 0 {
			tags = append(tags, "gift")
		}
		if rng.Intn(20) == 0 {
			tags = append(tags, "wholesale")
		}
		note := ""
		if rng.Intn(12) == 0 {
			note = generatedNotes[rng.Intn(len(generatedNotes))]
		}
		company, line1, line2 := "", fmt.Sprintf(pl.street, 1+rng.Intn(250)), ""
		if rng.Intn(15) == 0 {
			company = "Northwind Traders"
		}
		if rng.Intn(5) == 0 {
			line2 = fmt.Sprintf("Apt %d", 1+rng.Intn(40))
		}
		repeat := rng.Intn(3) == 0
		for j, l := range lines {
			clear(rec)
			set(fChannel, ch)
			set(fExternalID, extID)
			if j == 0 || repeat {
				set(fNumber, number)
				set(fPlacedAt, placed.Format(time.RFC3339))
				set(fCurrency, m.currency)
				set(fCustName, name)
				set(fCustEmail, fmt.Sprintf("buyer.%d.%d@example.com", run, i))
				set(fCustPhone, phone)
				set(fShipName, name)
				set(fShipCompany, company)
				set(fShipLine1, line1)
				set(fShipLine2, line2)
				set(fShipCity, pl.city)
				set(fShipRegion, pl.region)
				set(fShipPostal, pl.postal)
				set(fShipCountry, m.country)
				set(fShipPhone, phone)
				set(fShipTitle, shipTitle)
				set(fShipCode, shipCode)
				set(fShipPrice, amount(shipPrice))
				set(fPaymentStatus, status)
				set(fTags, strings.Join(tags, ", "))
				set(fNote, note)
			}
			set(fSKU, l[0])
			set(fQuantity, l[1])
			set(fUnitPrice, l[2])
			set(fLineDiscount, l[3])
			if taxes[j] > 0 {
				set(fLineTax, amount(taxes[j]))
			}
			if err := cw.Write(rec); err != nil {
				return errs.E(op, err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return errs.E(op, err)
	}
	if err := bw.Flush(); err != nil {
		return errs.E(op, err)
	}
	return nil
}
