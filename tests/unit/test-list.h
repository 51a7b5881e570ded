/*
 * test-list.h: every unit test, one TEST(name) line each.
 *
 * This is an X-macro list: run-tests.c includes it twice, once with TEST
 * defined as TEST_DECLARE (a prototype for run_test_NAME) and once as
 * TEST_ENTRY (a row of the test table).  To add a test, write
 * TEST_IMPL(name) in a tests/unit/test-*.c file and add TEST(name) below.
 * Tests run in the order listed.  No include guard, on purpose.
 */

/* test-strbuf.c */
TEST(strbuf_init_is_empty)
TEST(strbuf_static_init)
TEST(strbuf_add_bytes)
TEST(strbuf_add_embedded_nul)
TEST(strbuf_addstr_and_addch)
TEST(strbuf_add_empty)
TEST(strbuf_grow_reserves)
TEST(strbuf_grow_many)
TEST(strbuf_reset_keeps_buffer)
TEST(strbuf_detach)
TEST(strbuf_release_reinit)

/* test-input.c */
TEST(input_reader_newline)
TEST(input_reader_nul_delim)
TEST(input_reader_custom_delim)
TEST(input_reader_last_without_delim)
TEST(input_reader_empty_records)
TEST(input_reader_empty_input)
TEST(input_reader_single_newline)
TEST(input_reader_pieces_through_pipe)
TEST(input_reader_one_byte_pieces)
TEST(input_reader_long_record)
TEST(input_reader_release_closes)
TEST(input_args_product)
TEST(input_args_product_three)
TEST(input_link_wraps)
TEST(input_empty_second_source)
TEST(input_file_source)
TEST(input_file_source_custom_delim)
TEST(input_missing_file)
TEST(input_unreadable_file)
TEST(input_take_block_recycles)

/* test-count.c */
TEST(spool_memory_bound_and_order)
TEST(spool_no_file_keeps_the_bytes)
TEST(count_args_known_at_once)
TEST(count_regular_file)
TEST(count_pipe_read_ahead)
TEST(count_pipe_without_temp_file)
TEST(count_take_block_bounded)

/* test-template.c */
TEST(template_appends_when_no_replacement)
TEST(template_appends_every_source)
TEST(template_path_replacements)
TEST(template_seq_and_slot)
TEST(template_positional)
TEST(template_replace_option)
TEST(template_unterminated)
TEST(template_shell_quote_parallel)
TEST(template_shell_quote_adjacent_quotes)
TEST(template_shell_quote_round_trip)
TEST(template_direct_echo)
TEST(template_needs_shell)
TEST(template_exported_function_needs_shell)
TEST(template_raw_mode)
TEST(template_command_is_replacement)
TEST(template_negative_positional)
TEST(template_position_forms)
TEST(template_replace_option_positional)
TEST(template_literal_braces)
TEST(template_unsupported)
TEST(template_text_unquoted)

/* test-reorder.c */
TEST(reorder_out_of_order)
TEST(reorder_pop_only_head)
TEST(reorder_growth_with_gap)
TEST(reorder_growth_after_wrap)
TEST(reorder_random_order)

/* test-output.c */
TEST(output_group_streams)
TEST(output_tags_every_line)
TEST(output_spill_exact)
TEST(output_spill_tagged)
TEST(output_large_job)
TEST(output_release_unemitted)
TEST(output_linebuffer)
TEST(output_write_error)
TEST(output_write_error_large)
TEST(output_write_error_linebuffer)
TEST(output_hold_block)
TEST(output_concurrent_spill)
TEST(output_concurrent_linebuffer)
TEST(output_group_live_stderr_last)
TEST(output_marks)
TEST(output_ordered_linebuffer)
TEST(output_ordered_hold)
TEST(output_concurrent_ordered)

/* test-threadpool.c */
TEST(threadpool_many_items)
TEST(threadpool_waves)
TEST(threadpool_free_runs_queued)
TEST(threadpool_free_idle)
TEST(threadpool_chunks)
TEST(threadpool_collect_order)
TEST(threadpool_fd_cloexec)
TEST(threadpool_slots_as_gnu_parallel)

/* test-job.c */
TEST(job_exit_code)
TEST(job_signal)
TEST(job_not_found)
TEST(job_not_executable)
TEST(job_capture_streams)
TEST(job_direct_argv)
TEST(job_stdin_devnull)
TEST(job_environment)
TEST(job_own_pgroup)
TEST(job_signals_reset)
TEST(job_no_fd_leak)
TEST(job_timeout_termseq)

/* test-worker.c */
TEST(worker_runs_a_job)
TEST(worker_kill_and_end)
TEST(worker_refuses_garbage)

/* test-mux.c */
TEST(mux_session_output_and_status)
TEST(mux_session_refused)
TEST(mux_no_master)
TEST(mux_other_version_falls_back)
TEST(mux_timeout_ends_session)

/* test-proto.c */
TEST(proto_job_round_trip)
TEST(proto_done_round_trip)
TEST(proto_out_err_frames)
TEST(proto_partial)
TEST(proto_corrupt_header)
TEST(proto_corrupt_payload)
TEST(proto_hello_versions)

/* test-procpool.c */
TEST(procpool_all_jobs_once)
TEST(procpool_big_values)
TEST(procpool_worker_abort)
TEST(procpool_several_aborts)
TEST(procpool_slots)
TEST(procpool_kill_any_signal)
TEST(procpool_kill_zero)
TEST(procpool_workers_die_with_parent)

/* test-regex.c */
TEST(regex_groups_and_names)
TEST(regex_bad_pattern_names_option_and_offset)
TEST(regex_binary_subject)
TEST(regex_substitute_once_and_global)

/* test-scan.c */
TEST(scan_finds_every_delimiter_in_order)
TEST(scan_count_large_block)

/* test-fields.c */
TEST(fields_colsep_as_perl_split)
TEST(fields_trim_modes)
TEST(fields_match_and_skip)
TEST(fields_header_names)
TEST(fields_bad_combinations)
TEST(template_subst)
TEST(template_subst_errors)
TEST(template_subst_argv)
TEST(reader_recsep_across_reads)

/* test-halt.c */
TEST(halt_parse_long_forms)
TEST(halt_parse_short_forms)
TEST(halt_parse_refused)
TEST(halt_fail_one_takes_the_job_status)
TEST(halt_counts_and_percentages)
TEST(halt_not_reached)
TEST(halt_notice_words)
TEST(halt_count_items_batches)

/* test-joblog.c */
TEST(joblog_format_fields)
TEST(joblog_format_newline_in_command)
TEST(joblog_parse_lines)
TEST(joblog_resume_reads_and_appends)
TEST(joblog_open_new_and_errors)
/* test-pack.c */
TEST(pack_limits_as_parallel)
TEST(pack_spread)
TEST(pack_measure_is_the_line)
TEST(pack_measure_bounds_back_positions)
TEST(pack_estimate_back_positions)
TEST(pack_estimate_as_parallel)
TEST(pack_context_words)

/* test-json.c */
TEST(json_string_ascii_and_escapes)
TEST(json_string_valid_utf8_passes)
TEST(json_string_invalid_utf8_bytes)
TEST(json_string_all_bytes)
TEST(json_string_gnu_style)
TEST(json_record_fields)

/* test-results.c */
TEST(results_escape_special_bytes)
TEST(results_escape_cut_to_max)
TEST(results_dirname_sources_and_items)
TEST(results_dirname_named_sources_sorted)
TEST(results_write_dir_layout)
TEST(results_write_template)
TEST(results_record_csv_and_tsv)
TEST(results_record_json)


/* test-block.c */
TEST(block_newline)
TEST(block_default_size)
TEST(block_recend)
TEST(block_recstart)
TEST(block_recstart_recend)
TEST(block_recsep)
TEST(block_records)
TEST(block_lines)
TEST(block_longer_record)
TEST(block_header)
TEST(block_header_regex_greedy)
TEST(block_empty_and_binary)
TEST(block_bad_options)

/* test-termseq.c */
TEST(termseq_default)
TEST(termseq_parse_good)
TEST(termseq_parse_bad)

/* test-guard.c */
TEST(guard_kills_listed_when_let_go)
TEST(guard_kill_slot)
TEST(guard_outlives_sigkill)

/* test-setup.c */
TEST(setup_refuse_plugin_options)
TEST(setup_refuse_pipe)
TEST(setup_refuse_resume_and_results)

/* test-engine.c */
TEST(engine_output_in_input_order)
TEST(engine_output_as_completed)
TEST(engine_packs_max_args)
TEST(engine_packs_xargs_fill)
TEST(engine_packs_x_spread_over_slots)
TEST(engine_retries_keep_the_last_attempt)
TEST(engine_halt_now_kills_the_running)
TEST(engine_halt_soon_lets_the_running_end)

/* test-sshlogin.c */
TEST(sshlogin_forms)
TEST(sshlogin_own_ssh_command)
TEST(sshlogin_commas_and_lines)
TEST(sshlogin_refusals)
TEST(sshlogin_file)

/* test-slurm.c */
TEST(slurm_cpus_forms)
TEST(slurm_cpus_refusals)
TEST(slurm_nodes_outside)
TEST(slurm_argv_one_step)
TEST(util_last_line_forms)
