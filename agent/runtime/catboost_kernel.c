/* CatBoost's formula for rows of the encoder's matrix, from the arrays of agent/runtime/catboost_trees.py: the
   same steps as its numpy evaluation, one row at a time. Every split is one bit (a float above a border, a
   category hash equal to a value, a CTR above a border); a CTR is looked up by the hash of its projection.
   Compiled once per machine (agent/runtime/compiled.py); without a compiler, numpy serves the same numbers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define MAGIC 0x4906BA494954CB65ULL
#define UNKNOWN_HASH 0x7FFFFFFFULL

typedef struct {
    int64_t n_cat;
    const int64_t *cat_columns, *cat_codes, *cat_offsets;
    const uint64_t *cat_hashes;
    int64_t n_float;
    const int64_t *float_column;
    const float *float_border;
    const uint8_t *float_nan;
    int64_t n_onehot;
    const int64_t *onehot_cat;
    const uint64_t *onehot_value;
    int64_t n_ctr_splits;
    const int64_t *ctr_split_ctr;
    const float *ctr_split_border;
    int64_t n_float_elements;
    const int64_t *element_float_column;
    const float *element_float_border;
    const uint8_t *element_float_nan;
    int64_t n_exact_elements;
    const int64_t *element_exact_cat;
    const uint64_t *element_exact_value;
    int64_t n_projections, elements_width;
    const int64_t *element_index, *element_count;
    int64_t n_tables;
    const int64_t *table_projection;
    const uint64_t *table_salt;
    int64_t n_keys;
    const uint64_t *lookup_keys;
    const int64_t *lookup_rows;
    int64_t n_ctrs;
    const int64_t *ctr_table, *ctr_offsets;
    const float *ctr_good, *ctr_total, *ctr_prior_num, *ctr_prior_denom, *ctr_shift, *ctr_scale;
    int64_t n_trees, depth;
    const int64_t *split_index, *leaf_offsets;
    const double *leaf_values;
    int64_t dimension;
    double scale;
    const double *biases;
} Formula;

static uint8_t above(double value, float border, uint8_t nan_bit) {
    return isnan(value) ? nan_bit : (float)value > border;
}

static int64_t table_row(const Formula *f, uint64_t key) {
    int64_t low = 0, high = f->n_keys;
    while (low < high) {
        int64_t middle = low + (high - low) / 2;
        if (f->lookup_keys[middle] < key) low = middle + 1; else high = middle;
    }
    return (low < f->n_keys && f->lookup_keys[low] == key) ? f->lookup_rows[low] : -1;
}

int podium_catboost(const Formula *f, const double *matrix, int64_t rows, int64_t width, double *out) {
    int64_t n_bits = f->n_float + f->n_onehot + f->n_ctr_splits;
    int64_t n_elements = f->n_cat + f->n_float_elements + f->n_exact_elements;
    uint8_t *bits = malloc((size_t)(n_bits + 1));
    uint64_t *elements = malloc(sizeof(uint64_t) * (size_t)(n_elements + 1));
    uint64_t *chained = malloc(sizeof(uint64_t) * (size_t)(f->n_projections + 1));
    int64_t *found = malloc(sizeof(int64_t) * (size_t)(f->n_tables + 1));
    float *ctrs = malloc(sizeof(float) * (size_t)(f->n_ctrs + 1));
    int failed = !bits || !elements || !chained || !found || !ctrs;
    for (int64_t r = 0; r < rows && !failed; r++) {
        const double *row = matrix + r * width;
        double *result = out + r * f->dimension;
        uint64_t *hashes = elements;
        for (int64_t c = 0; c < f->n_cat; c++) {
            double value = row[f->cat_columns[c]];
            int64_t code = isnan(value) ? -1 : (int64_t)value;
            hashes[c] = (code >= 0 && code < f->cat_codes[c]) ? f->cat_hashes[f->cat_offsets[c] + code] : UNKNOWN_HASH;
        }
        uint8_t *bit = bits;
        for (int64_t s = 0; s < f->n_float; s++)
            *bit++ = above(row[f->float_column[s]], f->float_border[s], f->float_nan[s]);
        for (int64_t s = 0; s < f->n_onehot; s++) *bit++ = hashes[f->onehot_cat[s]] == f->onehot_value[s];
        if (f->n_ctrs) {
            uint64_t *element = elements + f->n_cat;
            for (int64_t e = 0; e < f->n_float_elements; e++)
                *element++ = above(row[f->element_float_column[e]], f->element_float_border[e], f->element_float_nan[e]);
            for (int64_t e = 0; e < f->n_exact_elements; e++)
                *element++ = hashes[f->element_exact_cat[e]] == f->element_exact_value[e];
            for (int64_t p = 0; p < f->n_projections; p++) {
                uint64_t hash = 0;
                for (int64_t l = 0; l < f->element_count[p]; l++)
                    hash = MAGIC * (hash + MAGIC * elements[f->element_index[p * f->elements_width + l]]);
                chained[p] = hash;
            }
            for (int64_t t = 0; t < f->n_tables; t++)
                found[t] = table_row(f, chained[f->table_projection[t]] ^ f->table_salt[t]);
            for (int64_t c = 0; c < f->n_ctrs; c++) {
                int64_t slot = f->ctr_offsets[c] + found[f->ctr_table[c]] + 1;
                float ratio = (f->ctr_good[slot] + f->ctr_prior_num[c]) / (f->ctr_total[slot] + f->ctr_prior_denom[c]);
                ctrs[c] = (ratio + f->ctr_shift[c]) * f->ctr_scale[c];
            }
        }
        for (int64_t s = 0; s < f->n_ctr_splits; s++) *bit++ = ctrs[f->ctr_split_ctr[s]] > f->ctr_split_border[s];
        *bit = 0; /* the padding bit */
        for (int64_t d = 0; d < f->dimension; d++) result[d] = 0.0;
        for (int64_t t = 0; t < f->n_trees; t++) {
            const int64_t *split = f->split_index + t * f->depth;
            int64_t leaf = 0;
            for (int64_t d = 0; d < f->depth; d++) leaf |= (int64_t)bits[split[d]] << d;
            const double *values = f->leaf_values + (f->leaf_offsets[t] + leaf) * f->dimension;
            for (int64_t d = 0; d < f->dimension; d++) result[d] += values[d];
        }
        for (int64_t d = 0; d < f->dimension; d++) result[d] = f->scale * result[d] + f->biases[d];
    }
    free(bits); free(elements); free(chained); free(found); free(ctrs);
    return failed;
}
