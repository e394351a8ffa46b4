package notice_test

import (
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/notice"
)

func TestSMSSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name  string
		text  string
		enc   string
		units int
		parts int
	}{
		{"empty", "", notice.GSM7, 0, 0},
		{"plain", "Su turno es el lunes", notice.GSM7, 20, 1},
		{"GSM-7's own accents", "é ñ ü à è ù ì ò Ç Ä Ö Ü É", notice.GSM7, 25, 1},
		{"GSM-7's symbols", "@£$¥¿¡§_ΔΩ\n\r", notice.GSM7, 12, 1},
		{"160 fit in one", a(160), notice.GSM7, 160, 1},
		{"161 take two", a(161), notice.GSM7, 161, 2},
		{"306 fit in two of 153", a(306), notice.GSM7, 306, 2},
		{"307 take three", a(307), notice.GSM7, 307, 3},
		{"extension characters cost two", "€[]{}\\^~|", notice.GSM7, 18, 1},
		{"80 euros fit in one", strings.Repeat("€", 80), notice.GSM7, 160, 1},
		{"81 euros take two", strings.Repeat("€", 81), notice.GSM7, 162, 2},
		{"an escape is never cut between parts", a(152) + "€" + a(152), notice.GSM7, 306, 3},
		{"one á makes it UCS-2", "Vacunación", notice.UCS2, 10, 1},
		{"a backtick is not GSM-7", "`", notice.UCS2, 1, 1},
		{"70 fit in one UCS-2", strings.Repeat("á", 70), notice.UCS2, 70, 1},
		{"71 take two", strings.Repeat("á", 71), notice.UCS2, 71, 2},
		{"134 fit in two of 67", "á" + a(133), notice.UCS2, 134, 2},
		{"135 take three", "á" + a(134), notice.UCS2, 135, 3},
		{"an emoji is two units", "😀", notice.UCS2, 2, 1},
		{"a surrogate pair is never cut", a(66) + "😀" + a(66), notice.UCS2, 134, 3},
		{"a text without accents outside GSM-7", "Su cita de vacunacion es el lunes 5 de abril a las 10:30 en el Vacunatorio Central, Av. 18 de Julio 1234. Lleve su documento. Codigo ABCD-EFGH-JKM",
			notice.GSM7, 146, 1},
		{"the same text with two accents costs three times as much", "Su cita de vacunación es el lunes 5 de abril a las 10:30 en el Vacunatorio Central, Av. 18 de Julio 1234. Lleve su documento. Código ABCD-EFGH-JKM",
			notice.UCS2, 146, 3},
	}
	for _, tt := range tests {
		got := notice.SMSSegments(tt.text)
		if got.Encoding != tt.enc || got.Units != tt.units || got.Parts != tt.parts {
			t.Errorf("%s: %+v, want %s %d units in %d parts", tt.name, got, tt.enc, tt.units, tt.parts)
		}
	}
}

func TestToGSM7(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Paysandú", "Paysandu"},
		{"Vacunación — Uruguay", "Vacunacion - Uruguay"},
		{"Ñandubay, Piriápolis", "Ñandubay, Piriapolis"}, // Ñ is GSM-7: kept
		{"«Dr. Álvarez» 3º piso…", "\"Dr. Alvarez\" 3o piso..."},
		{"café crème", "café crème"}, // é and è are GSM-7
		{"São João", "Sao Joao"},
		{"Lúcia 😀", "Lucia 😀"}, // no near letter for an emoji: kept
	}
	for _, tt := range tests {
		if got := notice.ToGSM7(tt.in); got != tt.want {
			t.Errorf("ToGSM7(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if s := notice.SMSSegments(notice.ToGSM7("Vacunación en Paysandú, Tacuarembó y Río Negro")); s.Encoding != notice.GSM7 {
		t.Errorf("Uruguay's place names after ToGSM7: %+v", s)
	}
}
