//! A small limited-memory BFGS minimiser with a backtracking (Armijo) line search.
//!
//! Full-batch and single-threaded on purpose: the objective is the exact L2-regularised
//! log-loss, so the result does not depend on a shuffling seed or a learning-rate
//! schedule, and the same inputs give the same bytes out. Vectors are `f32` (the model
//! has millions of weights and keeps `2 * memory` of them), dot products are summed in
//! `f64`.

fn dot(a: &[f32], b: &[f32]) -> f64 {
    // Four lanes so that the sum's order, and so its rounding, is fixed and fast.
    let mut acc = [0.0f64; 4];
    let chunks = a.len() / 4 * 4;
    for i in (0..chunks).step_by(4) {
        for k in 0..4 {
            acc[k] += f64::from(a[i + k]) * f64::from(b[i + k]);
        }
    }
    for i in chunks..a.len() {
        acc[0] += f64::from(a[i]) * f64::from(b[i]);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// What the minimiser did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsResult {
    pub iterations: usize,
    pub evaluations: usize,
    pub loss: f64,
}

/// Minimises `f` from `x` (updated in place). `f(x, grad)` returns the objective and
/// writes its gradient. Stops after `max_iter` iterations, or when the relative
/// decrease of the objective over one iteration falls below `tol`.
pub fn minimize<F>(x: &mut [f32], max_iter: usize, memory: usize, tol: f64, mut f: F) -> LbfgsResult
where
    F: FnMut(&[f32], &mut [f32]) -> f64,
{
    let n = x.len();
    let mut g = vec![0.0f32; n];
    let mut loss = f(x, &mut g);
    let mut evaluations = 1;
    let mut s_hist: Vec<Vec<f32>> = Vec::new();
    let mut y_hist: Vec<Vec<f32>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut d = vec![0.0f32; n];
    let mut x_new = vec![0.0f32; n];
    let mut g_new = vec![0.0f32; n];
    let mut alpha = vec![0.0f64; memory];
    let mut iterations = 0;
    while iterations < max_iter {
        iterations += 1;
        // Two-loop recursion: d = -H g.
        d.copy_from_slice(&g);
        let k = s_hist.len();
        for i in (0..k).rev() {
            let a = rho[i] * dot(&s_hist[i], &d);
            alpha[i] = a;
            for (dj, yj) in d.iter_mut().zip(&y_hist[i]) {
                *dj -= (a * f64::from(*yj)) as f32;
            }
        }
        if k > 0 {
            let gamma = dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1]);
            for dj in d.iter_mut() {
                *dj = (f64::from(*dj) * gamma) as f32;
            }
        } else {
            let gn = dot(&g, &g).sqrt().max(1e-12);
            for dj in d.iter_mut() {
                *dj = (f64::from(*dj) / gn) as f32;
            }
        }
        for i in 0..k {
            let b = rho[i] * dot(&y_hist[i], &d);
            let c = alpha[i] - b;
            for (dj, sj) in d.iter_mut().zip(&s_hist[i]) {
                *dj += (c * f64::from(*sj)) as f32;
            }
        }
        for dj in d.iter_mut() {
            *dj = -*dj;
        }
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            let gn = dot(&g, &g).sqrt().max(1e-12);
            for (dj, gj) in d.iter_mut().zip(&g) {
                *dj = (-f64::from(*gj) / gn) as f32;
            }
            slope = dot(&g, &d);
        }
        // Backtracking line search.
        let mut step = 1.0f64;
        let mut accepted = None;
        for _ in 0..30 {
            for ((xn, xj), dj) in x_new.iter_mut().zip(x.iter()).zip(&d) {
                *xn = (f64::from(*xj) + step * f64::from(*dj)) as f32;
            }
            let l = f(&x_new, &mut g_new);
            evaluations += 1;
            if l <= loss + 1e-4 * step * slope {
                accepted = Some(l);
                break;
            }
            step *= 0.5;
        }
        let Some(new_loss) = accepted else { break };
        // Update history with s = x_new - x, y = g_new - g.
        let (mut s, mut y) = if s_hist.len() == memory {
            rho.remove(0);
            (s_hist.remove(0), y_hist.remove(0))
        } else {
            (vec![0.0f32; n], vec![0.0f32; n])
        };
        for j in 0..n {
            s[j] = x_new[j] - x[j];
            y[j] = g_new[j] - g[j];
        }
        let sy = dot(&s, &y);
        x.copy_from_slice(&x_new);
        g.copy_from_slice(&g_new);
        let decrease = (loss - new_loss) / loss.abs().max(1e-12);
        loss = new_loss;
        if sy > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            rho.push(1.0 / sy);
        }
        if decrease < tol {
            break;
        }
    }
    LbfgsResult { iterations, evaluations, loss }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_a_quadratic() {
        // f(x) = sum c_i (x_i - i)^2
        let mut x = vec![0.0f32; 6];
        let r = minimize(&mut x, 100, 5, 1e-12, |x, g| {
            let mut l = 0.0;
            for (i, (xi, gi)) in x.iter().zip(g.iter_mut()).enumerate() {
                let c = (i + 1) as f32;
                let d = *xi - i as f32;
                l += f64::from(c * d * d);
                *gi = 2.0 * c * d;
            }
            l
        });
        for (i, xi) in x.iter().enumerate() {
            assert!((xi - i as f32).abs() < 1e-3, "{x:?} {r:?}");
        }
    }
}
