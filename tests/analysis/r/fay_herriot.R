# Reference values for analysis/fay_herriot.py: R sae's eblupFH (REML) and mseFH.
#
# Run from the repository root:  Rscript tests/analysis/r/fay_herriot.R
# Needs R with survey (for common.R) and sae. sae is not packaged by Debian; it was installed
# from the CRAN mirror on GitHub (github:cran/sae, version 1.3) with
#   R CMD INSTALL -l /tmp/rlib_sae sae      (its dependencies MASS and lme4: r-cran-lme4)
# and this script puts /tmp/rlib_sae first on the library path. Writes
# tests/analysis/data/fay_herriot.json; every case records its R call, its data and the results.
.libPaths(c("/tmp/rlib_sae", .libPaths()))
source(file.path("tests", "analysis", "r", "common.R"))
suppressPackageStartupMessages(library(sae))

# One case: eblupFH and mseFH of `formula` with sampling variances column `vardir` of `data`,
# and the synthetic prediction with its MSE (A + x'(X'V^-1X)^-1 x, computed here from R's
# fitted A and beta) for the rows of `newX`.
fh_case <- function(formula, vardir, data, precision = 1e-4, newX = NULL) {
  call_text <- sprintf("eblupFH(%s, %s, PRECISION = %s, data = data)", formula, vardir,
                       format(precision))
  fit <- eval(parse(text = call_text))
  mse <- eval(parse(text = sub("^eblupFH", "mseFH", call_text)))
  X <- model.matrix(as.formula(formula), data)
  psi <- data[[vardir]]
  A <- fit$fit$refvar
  Q <- solve(t(X / (A + psi)) %*% X)
  out <- list(call = paste0(call_text, "; ", sub("^eblupFH", "mseFH", call_text)),
              y = as.numeric(model.frame(as.formula(formula), data)[, 1]),
              vardir = as.numeric(psi), X = lapply(seq_len(ncol(X)), function(j) X[, j]),
              precision = precision, refvar = A, iterations = fit$fit$iterations,
              beta = as.numeric(fit$fit$estcoef$beta),
              beta_se = as.numeric(fit$fit$estcoef$std.error),
              loglike = as.numeric(fit$fit$goodness["loglike"]),
              eblup = as.numeric(fit$eblup), mse = as.numeric(mse$mse))
  if (!is.null(newX)) {
    out$new_X <- lapply(seq_len(ncol(newX)), function(j) newX[, j])
    out$new_synthetic <- as.numeric(newX %*% fit$fit$estcoef$beta)
    out$new_mse <- as.numeric(A + rowSums((newX %*% Q) * newX))
  }
  out
}

# 1. sae's own example: milk expenditure of 43 small areas, 4 major areas as factor.
data(milk)
milk$var <- milk$SD^2
cases <- list(
  milk = fh_case("yi ~ as.factor(MajorArea)", "var", milk),
  milk_tight = fh_case("yi ~ as.factor(MajorArea)", "var", milk, 1e-12))

# 2. Shaped like a district's streets: 14 streets, index means on 0-100 from 4 to 140
#    responses (variance ~ 220 / n), auxiliaries last wave's street index and the share aged
#    60+; two more streets without responses get the synthetic estimate.
set.seed(20261202)
n_streets <- 14
n <- c(4, 6, 9, 12, 18, 25, 31, 40, 52, 60, 75, 90, 110, 140)
last <- round(runif(n_streets, 70, 88), 2)
old <- round(runif(n_streets, 0.15, 0.40), 3)
truth <- 12 + 0.85 * last - 10 * old + rnorm(n_streets, 0, 1.5)
vardir <- 220 / n
streets <- data.frame(y = truth + rnorm(n_streets, 0, sqrt(vardir)), vardir = vardir,
                      last = last, old = old, n = n)
newX <- cbind(1, last = c(74.5, 83.25), old = c(0.31, 0.22))
cases$streets <- fh_case("y ~ last + old", "vardir", streets, newX = newX)
cases$streets_tight <- fh_case("y ~ last + old", "vardir", streets, 1e-12, newX)

# 3. Little between-street variation: the REML estimate of A is truncated at 0 (pure synthetic).
flat <- streets
flat$y <- 12 + 0.85 * last - 10 * old + rnorm(n_streets, 0, 0.2 * sqrt(vardir))
cases$flat <- fh_case("y ~ last + old", "vardir", flat, newX = newX)

out <- c(list(script = "tests/analysis/r/fay_herriot.R",
              sae_version = as.character(packageVersion("sae"))), cases)
write_reference(out, "fay_herriot.json")
