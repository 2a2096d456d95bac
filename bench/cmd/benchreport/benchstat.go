// benchstat's p-values, read from its CSV output, for the targets and notes
// that compare this package with another implementation.

package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"strings"
)

// pvalues holds benchstat's verdict on this package against another
// implementation, by unit, row and implementation: such as "p=0.002 n=6".
var pvalues = map[key]map[string]string{}

// parseBenchstatCSV reads `benchstat -format csv` output whose base column
// is this package. Each table starts with a line naming the columns'
// implementations and one naming the unit; the base has value and CI
// columns, every other implementation value, CI, vs base and P.
func parseBenchstatCSV(path string) (map[key]map[string]string, error) {
	f, err := os.Open(path) //nolint:gosec // G304: a file named on the command line
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	units := map[string]string{"sec/op": "ns/op", "cpu-sec/op": "cpu-ns/op", "sec/event": "ns/event"}
	out := map[key]map[string]string{}
	var cols map[int]string // column index to implementation
	unit := ""
	for _, rec := range recs {
		switch {
		case len(rec) < 3:
		case rec[0] == "" && rec[1] != "" && rec[2] == "": // ,epoll,,raw,,,,...
			cols = map[int]string{}
			for i, v := range rec {
				if v != "" {
					cols[i] = v
				}
			}
		case rec[0] == "" && rec[2] == "CI":
			unit = units[rec[1]]
		case rec[0] != "geomean" && unit != "":
			row := rec[0]
			if i := strings.LastIndexByte(row, '-'); i > 0 {
				row = row[:i] // the GOMAXPROCS suffix
			}
			for i, impl := range cols {
				if i+3 < len(rec) && rec[i+3] != "" {
					k := key{row, unit}
					if out[k] == nil {
						out[k] = map[string]string{}
					}
					out[k][impl] = rec[i+3]
				}
			}
		}
	}
	return out, nil
}

// pNote is ", benchstat p=…" for this package against impl, or "".
func pNote(row, unit, impl string) string {
	if pv := pvalues[key{row, unit}][impl]; pv != "" {
		return ", benchstat " + pv
	}
	return ""
}
