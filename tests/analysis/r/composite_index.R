# Reference values for analysis/composite_index.py, computed in base R straight from the
# published formulas (no code shared with the Python module):
#   entropy weight method: p_ij = s_ij / sum_i s_ij, e_j = -sum_i p_ij log(p_ij) / log(n)
#     (0 log 0 = 0), w_j = (1 - e_j) / sum(1 - e);
#   CRITIC (Diakoulaki, Mavrotas & Papayannakis 1995, Computers & Operations Research 22(7)):
#     C_j = sd_j * sum_k (1 - r_jk), w_j = C_j / sum(C), on min-max scores.
# Sensitivity: each weight times 0.8 and 1.2, the others times (1 - w'_j) / (1 - w_j).
# Reads tests/analysis/data/composite_indicators.csv (invented demo numbers) and writes
# tests/analysis/data/composite_index.json.  Run from the repository root:
#   Rscript tests/analysis/r/composite_index.R
source(file.path("tests", "analysis", "r", "common.R"))

x <- read.csv(file.path(DATA_DIR, "composite_indicators.csv"), colClasses = c(district = "character"))
rownames(x) <- x$district
x$district <- NULL
x <- as.matrix(x)
cost <- c("complaints_per_10k")
target <- c(product_pass_rate = 98, food_pass_rate = 99, complaints_per_10k = 6)
fixed <- c(survey_index = 0.4, product_pass_rate = 0.15, food_pass_rate = 0.15,
           complaints_per_10k = 0.1, standards_led = 0.1, brand_certified = 0.1)

minmax <- apply(x, 2, function(v) (v - min(v)) / (max(v) - min(v)))
minmax[, cost] <- 1 - minmax[, cost]

zscore <- scale(x)                       # centred, divided by the sample SD
zscore[, cost] <- -zscore[, cost]

attain <- x
for (j in colnames(x)) {
  t <- if (j %in% names(target)) target[[j]] else if (j %in% cost) min(x[, j]) else max(x[, j])
  attain[, j] <- if (j %in% cost) pmin(t / x[, j], 1) else pmin(x[, j] / t, 1)
}

entropy <- function(s) {
  n <- nrow(s)
  e <- numeric(ncol(s))
  for (j in seq_len(ncol(s))) {
    p <- s[, j] / sum(s[, j])
    e[j] <- -sum(ifelse(p > 0, p * log(p), 0)) / log(n)
  }
  d <- 1 - e
  setNames(d / sum(d), colnames(s))
}

critic <- function(s) {
  info <- apply(s, 2, sd) * colSums(1 - cor(s))
  info / sum(info)
}

index_of <- function(s, w, scale) as.vector(s %*% w[colnames(s)]) * scale

ranks <- function(v) as.integer(rank(-v, ties.method = "min"))

rank_range <- function(s, w, scale) {
  base <- ranks(index_of(s, w, scale))
  best <- base
  worst <- base
  for (j in names(w)) for (f in c(0.8, 1.2)) {
    w2 <- w * (1 - w[[j]] * f) / (1 - w[[j]])
    w2[[j]] <- w[[j]] * f
    r <- ranks(index_of(s, w2, scale))
    best <- pmin(best, r)
    worst <- pmax(worst, r)
  }
  list(rank = base, best = best, worst = worst)
}

case <- function(s, w, scale, call) {
  v <- index_of(s, w, scale)
  c(list(call = call, weights = as.list(w[colnames(s)]), index = v, rank = ranks(v)),
    list(range = rank_range(s, w, scale)))
}

w_entropy <- entropy(minmax)
w_critic <- critic(minmax)
out <- list(
  script = "tests/analysis/r/composite_index.R",
  districts = rownames(x),
  cost = cost,
  minmax_scores = lapply(split(minmax, col(minmax)), identity),
  cases = list(
    minmax_entropy = case(minmax, w_entropy, 100, "entropy(minmax); 100 * minmax %*% w"),
    minmax_critic = case(minmax, w_critic, 100, "critic(minmax); 100 * minmax %*% w"),
    zscore_critic = case(zscore, w_critic, 1, "critic(minmax); scale(x) %*% w"),
    target_entropy = case(attain, w_entropy, 100, "entropy(minmax); 100 * pmin(x / target, 1) %*% w"),
    minmax_fixed = case(minmax, fixed / sum(fixed), 100, "fixed weights; 100 * minmax %*% w")))
names(out$minmax_scores) <- colnames(minmax)
write_reference(out, "composite_index.json")
