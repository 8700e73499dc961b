//! Guest time without system calls: the parameters with which the vDSO turns the TSC into
//! CLOCK_MONOTONIC nanoseconds (and CLOCK_REALTIME and CLOCK_BOOTTIME, as offsets from it),
//! calibrated against the host clocks the Sentry itself sleeps on.
//!
//! This module owns the arithmetic (pure functions of samples, tested below), the host samples
//! and the check that the TSC can be trusted at all. It touches no guest memory: the page the
//! parameters are published in, and the thread that keeps them current, are `loader::vdso`'s.
//!
//! How the clock stays right: every update reads the host's CLOCK_MONOTONIC with the TSC just
//! before and after, estimates the host's nanoseconds per tick over the last couple of seconds,
//! and compares the host with what the published parameters say at that tick. The new
//! parameters start exactly where the old ones are at the moment they take over (so a guest
//! clock never steps back, whatever the rounding), and run at the estimated rate plus a small
//! correction (at most 500 ppm, as NTP slews) that cancels the difference over the next few
//! updates. A guest clock found far behind (over 100 us) steps forward instead. REALTIME and
//! BOOTTIME differ from MONOTONIC by offsets that change only when the host steps its clock or
//! resumes from suspend; a measured change is taken only when it is larger than the reading's
//! own uncertainty, so measurement noise never makes a guest clock go back.

use std::collections::VecDeque;
use std::time::Duration;

/// Fraction bits of [`ClockParams::mult`].
pub const FRAC_BITS: u32 = 32;
/// How far back samples go for the rate estimate.
const WINDOW_NS: u64 = 2_000_000_000;
/// The shortest span the first rate estimate is made over.
const MIN_BASELINE_NS: u64 = 500_000;
/// The largest correction of the rate, in parts per million.
const MAX_SLEW_PPM: i128 = 500;
/// A guest clock this far behind the host steps forward instead of slewing.
const STEP_NS: i128 = 100_000;
/// A guest clock this far ahead of the host slows down by up to half, not by MAX_SLEW_PPM.
const FAR_AHEAD_NS: i128 = 1_000_000;
/// An offset reading less certain than this is not used.
const MAX_OFFSET_WIDTH_NS: u64 = 10_000;
/// An offset change smaller than this (and than twice the reading's uncertainty) is noise.
const MIN_OFFSET_STEP_NS: u64 = 1_000;

/// What the vDSO computes guest time from (mirrors the clock fields of `struct vvar`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClockParams {
    /// The TSC value the parameters start at.
    pub tsc_base: u64,
    /// Nanoseconds per TSC tick, times 2^FRAC_BITS.
    pub mult: u64,
    /// CLOCK_MONOTONIC at `tsc_base`, in ns.
    pub mono_base: u64,
    /// CLOCK_REALTIME - CLOCK_MONOTONIC, in ns.
    pub real_offset: i64,
    /// CLOCK_BOOTTIME - CLOCK_MONOTONIC, in ns.
    pub boot_offset: i64,
}

impl ClockParams {
    /// CLOCK_MONOTONIC at `tsc`, computed exactly as the vDSO does.
    pub fn mono_at(&self, tsc: u64) -> u64 {
        let delta = tsc.saturating_sub(self.tsc_base);
        self.mono_base.wrapping_add(((u128::from(delta) * u128::from(self.mult)) >> FRAC_BITS) as u64)
    }
}

/// The host's CLOCK_MONOTONIC (ns) and the TSC at the same moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The TSC halfway through the clock reading.
    pub tsc: u64,
    /// CLOCK_MONOTONIC, in ns.
    pub mono: u64,
    /// How many ticks the reading took: its uncertainty.
    pub width: u64,
}

/// The host's REALTIME and BOOTTIME offsets from MONOTONIC, as measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offsets {
    /// CLOCK_REALTIME - CLOCK_MONOTONIC, in ns.
    pub real: i64,
    /// CLOCK_BOOTTIME - CLOCK_MONOTONIC, in ns.
    pub boot: i64,
    /// How uncertain the two are, in ns.
    pub width: u64,
}

/// The next parameters, decided from a sample; they take effect at a TSC value read once the
/// published page is marked as being rewritten ([`Timekeeper::commit`]).
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// How far the guest clock was behind the host at the sample, in ns (negative: ahead).
    pub error: i64,
    mult: u64,
    /// Nanoseconds to step forward.
    step: u64,
    sample: Sample,
}

/// The calibration state: recent samples and the parameters now published.
#[derive(Debug, Default)]
pub struct Timekeeper {
    history: VecDeque<Sample>,
    current: Option<ClockParams>,
    offsets: Option<(i64, i64)>,
}

impl Timekeeper {
    /// The parameters published last (None while guests still ask the kernel).
    pub fn current(&self) -> Option<ClockParams> {
        self.current
    }

    /// Whether the TSC read less than at the last sample (a host that reset it, or a TSC that is
    /// not synchronized across CPUs after all): the parameters no longer hold, and calibration
    /// must start again.
    pub fn tsc_went_back(&self, s: &Sample) -> bool {
        self.history.back().is_some_and(|last| s.tsc < last.tsc)
    }

    /// Takes a sample and the offsets; decides the parameters that should hold until the next
    /// update, `next` from now. None while the samples span too little time to estimate a rate.
    pub fn plan(&mut self, s: Sample, off: Offsets, next: Duration) -> Option<Plan> {
        if self.history.back().is_some_and(|last| s.tsc <= last.tsc || s.mono <= last.mono) {
            // A TSC or clock that did not move on: nothing to learn from it.
            return None;
        }
        self.history.push_back(s);
        while self.history.len() > 2 && s.mono - self.history[1].mono >= WINDOW_NS {
            self.history.pop_front();
        }
        self.take_offsets(off);
        let oldest = self.history[0];
        let (dtsc, dmono) = (s.tsc - oldest.tsc, s.mono - oldest.mono);
        if dmono < MIN_BASELINE_NS {
            return None;
        }
        let rate = (u128::from(dmono) << FRAC_BITS) / u128::from(dtsc);
        let rate = i128::try_from(rate).ok()?;
        let Some(cur) = self.current else {
            return Some(Plan { error: 0, mult: u64::try_from(rate).ok()?, step: 0, sample: s });
        };
        // Positive: the guest clock is behind the host.
        let error = i128::from(s.mono) - i128::from(cur.mono_at(s.tsc));
        let (mult, step) = if error > STEP_NS {
            (rate, error as u64)
        } else {
            // Cancel the error over four update periods: late updates still converge.
            let horizon = (next.as_nanos() as i128).max(1) * 4;
            let limit = if error < -FAR_AHEAD_NS { rate / 2 } else { rate * MAX_SLEW_PPM / 1_000_000 };
            (rate + (rate * error / horizon).clamp(-limit, limit), 0)
        };
        Some(Plan { error: error as i64, mult: u64::try_from(mult).ok()?, step, sample: s })
    }

    /// The parameters of `plan` from TSC value `tsc` on, which becomes the current ones. The
    /// new clock starts where the old one is at `tsc` (plus any step), so no reader that saw the
    /// old parameters at an earlier tick can see a later time than one that sees the new.
    pub fn commit(&mut self, plan: &Plan, tsc: u64) -> ClockParams {
        let (real_offset, boot_offset) = self.offsets.unwrap_or_default();
        let mono_base = match self.current {
            Some(cur) => cur.mono_at(tsc).wrapping_add(plan.step),
            None => {
                // Extrapolated from the sample, and a reading's width ahead: the first value a
                // guest reads is never before the host clock it read through system calls.
                let from_sample = ClockParams { tsc_base: plan.sample.tsc, mult: plan.mult, mono_base: plan.sample.mono, real_offset, boot_offset };
                let margin = ClockParams { tsc_base: 0, mono_base: 0, ..from_sample }.mono_at(plan.sample.width);
                from_sample.mono_at(tsc).wrapping_add(margin)
            }
        };
        let p = ClockParams { tsc_base: tsc, mult: plan.mult, mono_base, real_offset, boot_offset };
        self.current = Some(p);
        p
    }

    /// Takes measured offsets when they differ from the current ones by more than noise.
    fn take_offsets(&mut self, off: Offsets) {
        if off.width > MAX_OFFSET_WIDTH_NS {
            return;
        }
        let slack = MIN_OFFSET_STEP_NS.max(2 * off.width);
        let moved = |a: i64, b: i64| a.abs_diff(b) > slack;
        match self.offsets {
            Some((r, b)) if !moved(r, off.real) && !moved(b, off.boot) => {}
            _ => self.offsets = Some((off.real, off.boot)),
        }
    }
}

/// The TSC, read once every earlier instruction has completed and before any later one starts.
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: LFENCE and RDTSC only read the time-stamp counter into eax:edx; nothing else is
    // touched. (The missing `nomem` keeps the compiler from moving memory accesses across.)
    unsafe { std::arch::asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi, options(nostack)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// A host clock in ns (0 if it cannot be read, which the clocks used here never fail).
fn host_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// The host's CLOCK_MONOTONIC with the TSC: the narrowest of a few readings.
pub fn sample() -> Sample {
    let mut best = Sample { tsc: 0, mono: 0, width: u64::MAX };
    for _ in 0..5 {
        let t1 = rdtsc();
        let mono = host_ns(libc::CLOCK_MONOTONIC);
        let t2 = rdtsc();
        let width = t2.wrapping_sub(t1);
        if width < best.width {
            best = Sample { tsc: t1 + width / 2, mono, width };
        }
    }
    best
}

/// The host's REALTIME and BOOTTIME offsets from MONOTONIC: each read between two MONOTONIC
/// readings, the narrowest of a few tries.
pub fn offsets() -> Offsets {
    let mut best = Offsets { real: 0, boot: 0, width: u64::MAX };
    for _ in 0..3 {
        let m1 = host_ns(libc::CLOCK_MONOTONIC);
        let real = host_ns(libc::CLOCK_REALTIME);
        let m2 = host_ns(libc::CLOCK_MONOTONIC);
        let boot = host_ns(libc::CLOCK_BOOTTIME);
        let m3 = host_ns(libc::CLOCK_MONOTONIC);
        let width = m2.wrapping_sub(m1).max(m3.wrapping_sub(m2));
        if width < best.width {
            let mid = |a: u64, b: u64| a + b.wrapping_sub(a) / 2;
            best = Offsets { real: real.wrapping_sub(mid(m1, m2)) as i64, boot: boot.wrapping_sub(mid(m2, m3)) as i64, width };
        }
    }
    best
}

/// Whether the TSC ticks at one rate whatever the CPU's frequency and sleep states do, as the
/// host kernel sees it (`/proc/cpuinfo` flags `constant_tsc` and `nonstop_tsc`). Read before
/// the Sentry's seccomp filter forbids opening files.
pub fn tsc_is_invariant(cpuinfo: &str) -> bool {
    cpu_has(cpuinfo, "constant_tsc") && cpu_has(cpuinfo, "nonstop_tsc")
}

/// Whether /proc/cpuinfo's (first) flags line lists `flag`.
pub fn cpu_has(cpuinfo: &str, flag: &str) -> bool {
    let flags = cpuinfo.lines().find(|l| l.starts_with("flags")).and_then(|l| l.split_once(':'));
    flags.is_some_and(|(_, f)| f.split_whitespace().any(|f| f == flag))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// A host whose clock runs `ns_per_tick` from tick `t0`.
    fn host(tsc: u64, ns_per_tick: f64) -> Sample {
        Sample { tsc, mono: 1_000 * MS + (tsc as f64 * ns_per_tick) as u64, width: 40 }
    }

    fn offs() -> Offsets {
        Offsets { real: 1_700_000_000 * 1_000 * MS as i64, boot: 5 * MS as i64, width: 100 }
    }

    /// Runs updates every `period` ticks over `n` periods against a host running at
    /// `ns_per_tick`; returns the largest |guest - host| seen after `settle` updates, and checks
    /// that guest time never goes back at any switch.
    fn track(ns_per_tick: f64, period: u64, n: usize, settle: usize) -> u64 {
        let mut k = Timekeeper::default();
        let mut worst = 0;
        let mut tsc = 10_000;
        for i in 0..n {
            let s = host(tsc, ns_per_tick);
            if let Some(old) = k.current() {
                let err = s.mono.abs_diff(old.mono_at(s.tsc));
                if i > settle {
                    worst = worst.max(err);
                }
            }
            if let Some(plan) = k.plan(s, offs(), Duration::from_nanos((period as f64 * ns_per_tick) as u64)) {
                let at = tsc + 500;
                let before = k.current().map(|c| c.mono_at(at - 1));
                let p = k.commit(&plan, at);
                if let Some(b) = before {
                    assert!(p.mono_at(at) >= b, "time went back at update {i}");
                }
            }
            tsc += period;
        }
        worst
    }

    #[test]
    fn tracks_the_host_within_a_microsecond() {
        // 2.5 GHz, updates every 100 ms.
        let worst = track(0.4, 250_000_000, 100, 3);
        assert!(worst < 1_000, "worst error {worst} ns");
    }

    #[test]
    fn follows_a_host_rate_change() {
        let mut k = Timekeeper::default();
        let period = 250_000_000u64;
        let mut tsc = 1_000u64;
        let mut mono = 0u64;
        let mut rate = 0.4f64;
        let mut worst_late = 0;
        for i in 0..200 {
            if i == 50 {
                // The host slews by 200 ppm.
                rate *= 1.0002;
            }
            let s = Sample { tsc, mono, width: 40 };
            if i > 120 {
                worst_late = worst_late.max(s.mono.abs_diff(k.current().map_or(s.mono, |c| c.mono_at(s.tsc))));
            }
            if let Some(plan) = k.plan(s, offs(), Duration::from_millis(100)) {
                k.commit(&plan, tsc + 100);
            }
            tsc += period;
            mono += (period as f64 * rate) as u64;
        }
        assert!(worst_late < 2_000, "worst error after settling {worst_late} ns");
    }

    #[test]
    fn far_behind_steps_forward_and_never_back() {
        let mut k = Timekeeper::default();
        let s0 = host(0, 0.4);
        assert!(k.plan(s0, offs(), Duration::from_millis(1)).is_none(), "one sample gives no rate");
        let s1 = host(10_000_000, 0.4);
        let p = k.plan(s1, offs(), Duration::from_millis(1)).unwrap();
        let first = k.commit(&p, s1.tsc + 10);
        assert!(first.mono_base >= host(s1.tsc + 10, 0.4).mono, "the first value is not behind the host");
        // The host jumps 5 ms ahead of the TSC's account.
        let mut s2 = host(20_000_000, 0.4);
        s2.mono += 5 * MS;
        let p = k.plan(s2, offs(), Duration::from_millis(1)).unwrap();
        let at = s2.tsc + 10;
        let before = first.mono_at(at);
        let second = k.commit(&p, at);
        assert!(second.mono_base > before, "never back");
        assert!(second.mono_base.abs_diff(host(at, 0.4).mono + 5 * MS) < 100, "stepped to the host");
    }

    #[test]
    fn a_tsc_that_goes_back_is_noticed() {
        let mut k = Timekeeper::default();
        let _ = k.plan(host(1_000_000, 0.4), offs(), Duration::from_millis(1));
        assert!(!k.tsc_went_back(&host(2_000_000, 0.4)));
        assert!(k.tsc_went_back(&host(500, 0.4)));
    }

    #[test]
    fn offsets_change_only_beyond_noise() {
        let mut k = Timekeeper::default();
        let mut o = offs();
        k.take_offsets(o);
        o.real += 300;
        k.take_offsets(o);
        assert_eq!(k.offsets, Some((offs().real, offs().boot)), "300 ns is noise");
        o.real += 1_000_000;
        k.take_offsets(o);
        assert_eq!(k.offsets, Some((o.real, o.boot)), "a 1 ms step is taken");
        let mut wide = o;
        wide.real += 5 * MS as i64;
        wide.width = 50_000;
        k.take_offsets(wide);
        assert_eq!(k.offsets, Some((o.real, o.boot)), "an uncertain reading is ignored");
    }

    #[test]
    fn invariant_tsc_needs_both_flags() {
        assert!(tsc_is_invariant("processor\t: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc rdtscp\n"));
        assert!(!tsc_is_invariant("flags\t\t: fpu tsc constant_tsc\n"));
        assert!(!tsc_is_invariant(""));
    }

    #[test]
    fn params_match_the_vdso_arithmetic() {
        let p = ClockParams { tsc_base: 1_000, mult: 3 << 31, mono_base: 7, real_offset: 0, boot_offset: 0 };
        assert_eq!(p.mono_at(999), 7, "before the base: the base");
        assert_eq!(p.mono_at(1_002), 7 + 3, "1.5 ns per tick, rounded down");
    }
}
