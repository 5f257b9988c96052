package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is the process's memory at one moment: the Go heap and the
// resident set as the kernel counts it (VmRSS now, VmHWM the peak since
// the last reset).
type Memory struct {
	HeapMB     float64 `json:"heap_mb"`
	HeapPeakMB float64 `json:"heap_peak_mb"`
	RSSMB      float64 `json:"rss_mb"`
	HWMMB      float64 `json:"rss_peak_mb"`
	// HWMReset tells whether the peak could be reset before the phase
	// (else it covers the whole run).
	HWMReset bool `json:"rss_peak_reset"`
}

// procStatus reads VmRSS and VmHWM in MB from /proc/self/status (zero
// where the file does not exist).
func procStatus() (rss, hwm float64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			hwm = kb / 1024
		}
	}
	return rss, hwm
}

// resetPeak returns freed memory to the system and resets the kernel's
// peak resident set (writing 5 to clear_refs, Linux 4.0 and later), so a
// phase's peak is its own and not the load's.
func resetPeak() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// watch samples the heap every 20 ms from a reset peak on; stop returns
// the phase's figures.
func watch() (stop func() Memory) {
	reset := resetPeak()
	var mu sync.Mutex
	var top uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			h := heapBytes()
			mu.Lock()
			top = max(top, h)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() Memory {
		close(done)
		mu.Lock()
		peak := top
		mu.Unlock()
		h := heapBytes()
		rss, hwm := procStatus()
		return Memory{HeapMB: mb(h), HeapPeakMB: mb(max(peak, h)), RSSMB: rss, HWMMB: hwm, HWMReset: reset}
	}
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
