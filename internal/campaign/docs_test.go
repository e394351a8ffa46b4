package campaign_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/campaign"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// TestSampleCitesFilesThatExist: every file the sample campaign's comments
// name is in the repository, since whoever starts a campaign from it
// (turnero campaign-sample) will look for them.
func TestSampleCitesFilesThatExist(t *testing.T) {
	cited := regexp.MustCompile(`[\w./-]+\.(md|csv|toml|go)\b`).FindAllString(string(campaign.SampleFile()), -1)
	if len(cited) == 0 {
		t.Fatal("the sample cites no file; the pattern is broken")
	}
	for _, f := range cited {
		if _, err := os.Stat(filepath.Join(repoRoot, f)); err != nil {
			t.Errorf("the sample campaign cites %s, which is not in the repository", f)
		}
	}
}

// TestDocumentedCentersCSV: the CSV example of docs/campaign.md, header row
// and all, is what turnero centers import reads.
func TestDocumentedCentersCSV(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "campaign.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```csv\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/campaign.md has no ```csv example")
	}
	centers, err := campaign.ParseCentersCSV(strings.NewReader(string(m[1])), campaign.Sample())
	if err != nil {
		t.Fatalf("the documented CSV does not import: %v", err)
	}
	if len(centers) < 2 {
		t.Fatalf("the documented CSV gives %d centers", len(centers))
	}
	// Without its header row, the same rows are refused, naming row 1.
	rows := string(m[1])[strings.IndexByte(string(m[1]), '\n')+1:]
	if _, err := campaign.ParseCentersCSV(strings.NewReader(rows), campaign.Sample()); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Errorf("rows without a header row: %v, want a refusal naming row 1", err)
	}
}
