"""test_cluster.py's faults of the task queue itself on the Compose cluster: its leader
dies (in the middle of 300 tasks, too), two nodes of three die, a task goes back to it
too often. As in test_docker_cluster_faults.py, on a cluster of its own. Skipped where
no Docker engine with Compose v2 runs (CI sets one up)."""

from test_cluster import (  # noqa: F401 (the same tests, on this module's cluster)
    test_a_node_killed_in_the_middle_of_300_tasks_loses_none_and_holds_answers_up_under_10_s,
    test_a_quorum_queue_without_the_policy_drops_a_task_back_20_times_on_4_0_not_on_3_10,
    test_a_task_that_kills_its_worker_every_time_ends_in_the_dead_letter_queue,
    test_tasks_queued_on_a_leader_that_dies_run_once_each_and_answer,
    test_with_two_nodes_down_a_send_times_out_in_seconds_and_no_accepted_task_is_lost,
)
from test_docker_cluster_faults import compose_cluster, pytestmark  # noqa: F401

cluster = compose_cluster(6181, "celery-memo-cluster-quorum")  # clear of 6081-6083
