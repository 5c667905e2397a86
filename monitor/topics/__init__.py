"""Complaint topics: why a watch's unhappy customers are unhappy, grouped and named (issue 25).

- embed.py: each unhappy mention's sentence vector (models/embedding.py), made once and stored.
- cluster.py: k-means on the vectors, anchored on the watch's seed topics and the previous topics;
  no outlier bucket (every mention joins its nearest topic).
- naming.py: a topic's name from its distinctive words (c-TF-IDF, no stop words, brand words, handles).
- matching.py: a refit's clusters matched to the topics before it (Hungarian on centroid similarity).
- refit.py: one watch's refit in one transaction: ids, names and a person's edits kept, history recorded.
- assign.py: a newly scored unhappy mention joins its nearest topic at once.
- edits.py: a person's rename, merge and split.
- emerging.py: the emerging-topic alert (surface/alert_delivery.py delivers it).
- report.py: what the CLI, the dashboard and the digests show of a watch's topics.
"""
