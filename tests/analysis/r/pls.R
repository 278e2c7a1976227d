# Reference values for analysis/pls.py: PLS path models fitted by R's plspm (0.5.1), on plspm's
# ECSI customer-satisfaction data, and on a small weighted data set.
# Writes tests/analysis/data/pls_ecsi.csv (the data) and tests/analysis/data/pls_plspm.json.
# Run from the repository root with plspm installed (it is not in Debian; from github:cran/plspm
# with its dependencies tester, turner, diagram, amap, shape):
#   R_LIBS=/tmp/rlib_pls Rscript tests/analysis/r/pls.R
#
# Case weights: plspm has none. Two independent routes check the weighted fit:
#  1. integer weights = each row repeated that many times: plspm on the expanded data;
#  2. fractional survey weights: `weighted_pls` below, the Lohmöller algorithm (mode A,
#     centroid or path scheme) written from Tenenhaus et al. (2005, CSDA 48, 159-205) on the
#     data rows with weighted means, variances (population divisor) and covariances; it is
#     first checked here against route 1 (stop() unless equal to 1e-10).
source(file.path("tests", "analysis", "r", "common.R"))
suppressPackageStartupMessages(library(plspm))
data(satisfaction)

LVS <- c("IMAG", "EXPE", "QUAL", "VAL", "SAT", "LOY")
ITEMS <- names(satisfaction)[1:27]
BLOCKS <- list(1:5, 6:10, 11:15, 16:19, 20:23, 24:27)
IDM <- rbind(IMAG = c(0, 0, 0, 0, 0, 0), EXPE = c(1, 0, 0, 0, 0, 0), QUAL = c(0, 1, 0, 0, 0, 0),
             VAL = c(0, 1, 1, 0, 0, 0), SAT = c(1, 1, 1, 1, 0, 0), LOY = c(1, 0, 0, 0, 1, 0))
colnames(IDM) <- LVS
ecsi <- satisfaction[, ITEMS]
write_exact_csv(ecsi, "pls_ecsi.csv")

# ACSI 0-100 scores: outer weights divided by the item's sd, normalised per block, on 1..10.
acsi_means <- function(weights, data, w = rep(1, nrow(data))) {
  sdv <- sqrt(apply(data, 2, function(x) sum(w * (x - sum(w * x) / sum(w))^2) / sum(w)))
  sapply(BLOCKS, function(b) {
    u <- weights[b] / sdv[b]
    u <- u / sum(u)
    score <- (as.matrix(data[, b]) %*% u - 1) / 9 * 100
    sum(w * score) / sum(w)
  })
}

fit_entry <- function(call, fit, data, w = rep(1, nrow(data))) {
  total <- fit$path_coefs
  total[] <- 0
  power <- fit$path_coefs
  while (any(power != 0)) { total <- total + power; power <- power %*% fit$path_coefs }
  list(call = call, iterations = fit$model$iter,
       outer_weight = as.numeric(fit$outer_model$weight),
       loading = as.numeric(fit$outer_model$loading),
       path_coefs = lapply(seq_along(LVS), function(i) as.numeric(fit$path_coefs[i, ])),
       total_effects = lapply(seq_along(LVS), function(i) as.numeric(total[i, ])),
       total_effects_plspm = as.numeric(fit$effects$total),
       r_squared = as.numeric(fit$inner_summary$R2),
       scores = lapply(LVS, function(k) as.numeric(fit$scores[, k])),
       acsi_means = as.numeric(acsi_means(fit$outer_model$weight, data, w)),
       rescale_means = if (all(w == 1)) as.numeric(colMeans(rescale(fit))) else NULL)
}

weighted_pls <- function(data, w, scheme = "centroid", tol = 1e-20, maxiter = 1000) {
  X0 <- as.matrix(data)
  sw <- sum(w)
  wmean <- function(x) sum(w * x) / sw
  wstd <- function(x) { x <- x - wmean(x); x / sqrt(wmean(x^2)) }
  X <- apply(X0, 2, wstd)
  odm <- sapply(seq_along(BLOCKS), function(j) as.numeric(seq_len(ncol(X)) %in% BLOCKS[[j]]))
  W <- odm
  for (j in seq_along(BLOCKS)) W[, j] <- W[, j] / sqrt(wmean((X %*% W[, j])^2))
  adj <- IDM + t(IDM)
  w_old <- rowSums(W)
  for (iter in seq_len(maxiter)) {
    Y <- apply(X %*% W, 2, wstd)
    C <- crossprod(Y * w, Y) / sw
    E <- if (scheme == "centroid") sign(C * adj) else {
      E <- IDM
      for (k in seq_along(LVS)) {
        pred <- IDM[k, ] == 1
        if (any(pred)) E[pred, k] <- lm.wfit(Y[, pred, drop = FALSE], Y[, k], w)$coefficients
        succ <- IDM[, k] == 1
        if (any(succ)) E[succ, k] <- C[k, succ]
      }
      E
    }
    Z <- Y %*% E
    for (j in seq_along(BLOCKS)) {
      b <- BLOCKS[[j]]
      W[b, j] <- crossprod(X[, b] * w, Z[, j]) / sw
    }
    w_new <- rowSums(W)
    if (sum((abs(w_old) - abs(w_new))^2) < tol) break
    w_old <- w_new
  }
  for (j in seq_along(BLOCKS)) W[, j] <- W[, j] / sqrt(wmean((X %*% W[, j])^2))
  LV <- X %*% W
  colnames(LV) <- LVS
  path <- IDM * 0
  r2 <- rep(0, length(LVS))
  for (k in which(rowSums(IDM) > 0)) {
    pred <- IDM[k, ] == 1
    fit <- lm(LV[, k] ~ LV[, pred, drop = FALSE], weights = w)
    path[k, pred] <- coef(fit)[-1]
    r2[k] <- summary(fit)$r.squared
  }
  C <- crossprod(X * w, LV) / sw  # items standardised, LVs unit variance
  list(outer_model = data.frame(weight = rowSums(W), loading = rowSums(C * odm)),
       path_coefs = path, scores = LV, inner_summary = data.frame(R2 = r2),
       effects = list(total = NA), model = list(iter = iter))
}

out <- list(script = "tests/analysis/r/pls.R", plspm_version = as.character(packageVersion("plspm")),
            data = "data(satisfaction, package = 'plspm')[, 1:27] (pls_ecsi.csv)",
            lvs = LVS, items = ITEMS,
            blocks = "list(1:5, 6:10, 11:15, 16:19, 20:23, 24:27)",
            path_matrix = "rows = dependent: EXPE <- IMAG; QUAL <- EXPE; VAL <- EXPE, QUAL; SAT <- IMAG, EXPE, QUAL, VAL; LOY <- IMAG, SAT")
for (scheme in c("centroid", "factorial", "path")) {
  fit <- plspm(ecsi, IDM, BLOCKS, modes = rep("A", 6), scheme = scheme)
  out[[paste0("ecsi_", scheme)]] <- fit_entry(
    sprintf("plspm(ecsi, IDM, BLOCKS, modes = rep('A', 6), scheme = '%s')", scheme), fit, ecsi)
}

# The small weighted data set: the first 80 respondents, integer and fractional weights.
small <- ecsi[1:80, ]
w_int <- rep(c(1, 2, 3, 1, 4), 16)
w_frac <- w_int * 1.7 + (1:80 %% 7) / 3
out$weighted_rows <- "ecsi[1:80, ]"
out$w_int <- w_int
out$w_frac <- w_frac
expanded <- small[rep(1:80, w_int), ]
for (scheme in c("centroid", "path")) {
  fit <- plspm(expanded, IDM, BLOCKS, modes = rep("A", 6), scheme = scheme, tol = 1e-20,
               maxiter = 1000)
  mine <- weighted_pls(small, w_int, scheme)
  gap <- max(abs(mine$outer_model$weight - fit$outer_model$weight),
             abs(mine$path_coefs - fit$path_coefs))
  if (gap > 1e-10) stop("weighted_pls differs from plspm on the expanded rows by ", gap)
  entry <- fit_entry(sprintf(
    "plspm(small[rep(1:80, w_int), ], IDM, BLOCKS, modes = rep('A', 6), scheme = '%s', tol = 1e-20, maxiter = 1000)",
    scheme), fit, expanded)
  entry$scores <- NULL  # rows repeated; the scores of the 80 rows are in weighted_pls's entries
  out[[paste0("expanded_", scheme)]] <- entry
  frac <- weighted_pls(small, w_frac, scheme)
  out[[paste0("weighted_", scheme)]] <- fit_entry(sprintf(
    "weighted_pls(small, w_frac, '%s')  (this script; tol 1e-20)", scheme), frac, small, w_frac)
}
write_reference(out, "pls_plspm.json")
